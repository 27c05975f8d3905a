{#-
    Per input file: lines read, parsed and quarantined (by reason), and how many of its events were new
    versus re-deliveries of events already delivered by an earlier file or line. The ingestion health view:
    lines_read = lines_parsed + lines_quarantined, always.
-#}
with

event_lines as (

    select * from {{ ref('stg_ebpf__event_lines') }}

),

deliveries as (

    select
        file_name,
        line_number,
        row_number() over (partition by event_id order by file_name, line_number) > 1 as is_redelivery,
    from event_lines
    where quarantine_reason is null

),

per_file as (

    select
        file_name,
        count(*) as lines_read,
        count_if(quarantine_reason is null) as lines_parsed,
        count_if(quarantine_reason is not null) as lines_quarantined,
        {%- for reason in ['empty_line', 'invalid_utf8', 'invalid_json', 'not_a_json_object',
                           'missing_required_field', 'wrong_field_type', 'bad_timestamp', 'unknown_event_type'] %}
        count_if(quarantine_reason = '{{ reason }}') as quarantined_{{ reason }},
        {%- endfor %}
        min(event_at) as first_event_at,
        max(event_at) as last_event_at,
    from event_lines
    group by file_name

),

redeliveries as (

    select
        file_name,
        count_if(not is_redelivery) as events_first_delivered,
        count_if(is_redelivery) as events_redelivered,
    from deliveries
    group by file_name

),

final as (

    select
        per_file.file_name,
        split_part(per_file.file_name, '/', 2) as host_directory,
        per_file.* exclude (file_name),
        coalesce(redeliveries.events_first_delivered, 0) as events_first_delivered,
        coalesce(redeliveries.events_redelivered, 0) as events_redelivered,
    from per_file
    left join redeliveries using (file_name)

)

select * from final
