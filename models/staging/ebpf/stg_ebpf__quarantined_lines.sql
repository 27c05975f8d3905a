{#- The lines that did not parse, with the first reason that failed them and the raw text. -#}
with

event_lines as (

    select * from {{ ref('stg_ebpf__event_lines') }}

),

final as (

    select
        file_name,
        line_number,
        quarantine_reason,
        quarantine_detail,
        raw_line,
        line_bytes,
    from event_lines
    where quarantine_reason is not null

)

select * from final
