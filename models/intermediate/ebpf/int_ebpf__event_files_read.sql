{#-
    The ledger of the event files read: one row per file, as of its latest read — its size and modification
    time then, when it was read, how its lines split into parsed and quarantined (by reason), and the
    quarantined lines themselves (the quarantine mart unnests them), so that each line is parsed once here.

    File-scoped incremental: each run reads only the files that are new, or whose size or modification time
    changed since they were read (an hourly file the agent is still appending to), and replaces their rows.
    Files whose lines are already accounted for are not opened. int_ebpf__file_events_deduplicated loads the
    events of the files this ledger read after its own last load. A file removed from disk keeps its row
    until a full refresh.
-#}
{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key='file_name',
        on_schema_change='fail',
    )
}}
{#- The lines of stg_ebpf__event_lines, for the files this run reads (the same macro, limited to them). -#}
-- depends_on: {{ ref('stg_ebpf__event_lines') }}
{%- set files = ebpf_event_files_to_read(this if is_incremental() else none) -%}
{%- set reasons = [
    'empty_line', 'invalid_utf8', 'invalid_json', 'not_a_json_object', 'missing_required_field',
    'wrong_field_type', 'bad_timestamp', 'unknown_event_type',
] %}

with

files_to_read as (

    -- Listed when the model was compiled (macros/ebpf/event_files.sql): the files, their size and mtime.
    {%- if files %}
    select
        file_name,
        file_bytes::ubigint as file_bytes,
        make_timestamp(file_modified_us) as file_modified_at,
    from (values
        {%- for file in files %}
        ('{{ file.file_name | replace("'", "''") }}', {{ file.file_bytes }}, {{ file.file_modified_us }}){{ ',' if not loop.last }}
        {%- endfor %}
    ) as listed (file_name, file_bytes, file_modified_us)
    {%- else %}
    select null::varchar as file_name, null::ubigint as file_bytes, null::timestamp as file_modified_at
    where false
    {%- endif %}

),

event_lines as (

    {{ ebpf_parsed_event_lines(files | map(attribute='file_name') | list) }}

),

read_at as (

    -- When this run read the files (UTC), kept strictly after every earlier read even if the clock went
    -- back, since the loading models take in the reads newer than their last one.
    select
        {%- if is_incremental() %}
        greatest(
            now() at time zone 'UTC',
            coalesce((select max(read_at) from {{ this }}) + interval 1 microsecond, now() at time zone 'UTC')
        )
        {%- else %}
        now() at time zone 'UTC'
        {%- endif %}
            as read_at

),

per_file as (

    select
        file_name,
        count(*) as lines_read,
        count_if(quarantine_reason is null) as lines_parsed,
        count_if(quarantine_reason is not null) as lines_quarantined,
        {%- for reason in reasons %}
        count_if(quarantine_reason = '{{ reason }}') as quarantined_{{ reason }},
        {%- endfor %}
        min(event_at) as first_event_at,
        max(event_at) as last_event_at,
        list(
            struct_pack(line_number, quarantine_reason, quarantine_detail, raw_line, line_bytes)
            order by line_number
        ) filter (where quarantine_reason is not null) as quarantined_lines,
    from event_lines
    group by file_name

),

final as (

    select
        files_to_read.file_name,
        split_part(files_to_read.file_name, '/', 2) as host_directory,
        files_to_read.file_bytes,
        files_to_read.file_modified_at,
        read_at.read_at,
        coalesce(per_file.lines_read, 0) as lines_read,
        coalesce(per_file.lines_parsed, 0) as lines_parsed,
        coalesce(per_file.lines_quarantined, 0) as lines_quarantined,
        {%- for reason in reasons %}
        coalesce(per_file.quarantined_{{ reason }}, 0) as quarantined_{{ reason }},
        {%- endfor %}
        per_file.first_event_at,
        per_file.last_event_at,
        coalesce(per_file.quarantined_lines, []) as quarantined_lines,
    from files_to_read
    cross join read_at
    left join per_file using (file_name)

)

select * from final
