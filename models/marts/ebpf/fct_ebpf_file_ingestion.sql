{#-
    Per input file: lines read, parsed and quarantined (by reason), as of the file's latest read, and how many
    of its events were new versus re-deliveries of events already delivered by an earlier file or line. The
    ingestion health view: lines_read = lines_parsed + lines_quarantined, always.
-#}
with

files_read as (

    select * from {{ ref('int_ebpf__event_files_read') }}

),

events as (

    select * from {{ ref('int_ebpf__file_events_deduplicated') }}

),

first_deliveries as (

    -- Every parsed line of a file is an event's first delivery or a re-delivery.
    select
        first_delivered_in_file as file_name,
        count(*) as events_first_delivered,
    from events
    group by first_delivered_in_file

),

final as (

    select
        files_read.* exclude (quarantined_lines, arrived_at, read_at, file_bytes, file_modified_at),
        coalesce(first_deliveries.events_first_delivered, 0) as events_first_delivered,
        files_read.lines_parsed - coalesce(first_deliveries.events_first_delivered, 0) as events_redelivered,
        files_read.file_bytes,
        files_read.file_modified_at,
        files_read.read_at,
    from files_read
    left join first_deliveries using (file_name)

)

select * from final
