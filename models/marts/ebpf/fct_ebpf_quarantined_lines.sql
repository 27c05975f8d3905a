{#- The quarantine: every input line that did not parse, where it was and why, with its raw text. -#}
with

files_read as (

    select * from {{ ref('int_ebpf__event_files_read') }}

),

quarantined as (

    select
        file_name,
        unnest(quarantined_lines) as line,
    from files_read
    where lines_quarantined > 0

),

final as (

    select
        file_name || ':' || line.line_number as line_key,
        file_name,
        line.line_number,
        line.quarantine_reason,
        line.quarantine_detail,
        line.raw_line,
        line.line_bytes,
    from quarantined

)

select * from final
