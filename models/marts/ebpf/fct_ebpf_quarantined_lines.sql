{#- The quarantine: every input line that did not parse, where it was and why, with its raw text. -#}
with

quarantined as (

    select * from {{ ref('stg_ebpf__quarantined_lines') }}

),

final as (

    select
        file_name || ':' || line_number as line_key,
        file_name,
        line_number,
        quarantine_reason,
        quarantine_detail,
        raw_line,
        line_bytes,
    from quarantined

)

select * from final
