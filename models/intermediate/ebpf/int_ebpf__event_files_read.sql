{#-
    The ledger of the event files read: one row per file, as of its latest read — its size and modification
    time then, when it arrived and was read, how its lines split into parsed and quarantined (by reason), and
    the quarantined lines themselves (the quarantine mart unnests them), so that each line is parsed once here.

    File-scoped incremental: each run reads only the files that arrived (int_ebpf__event_file_arrivals: new,
    or changed in size or modification time, e.g. an hourly file the agent is still appending to) after the
    newest arrival it holds, and replaces their rows. Files whose lines are already accounted for are not
    opened. The events table reads the same arrivals on its own, so neither waits on the other. A file
    removed from disk keeps its row until a full refresh.
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
{%- set arrivals = ref('int_ebpf__event_file_arrivals') -%}
{%- if is_incremental() -%}
    {%- set file_names = ebpf_files_arrived_since(load_relation(arrivals), this, 'arrived_at').file_names -%}
{%- else -%}
    {%- set file_names = none -%}
{%- endif -%}
{%- set reasons = [
    'empty_line', 'invalid_utf8', 'invalid_json', 'not_a_json_object', 'missing_required_field',
    'wrong_field_type', 'bad_timestamp', 'unknown_event_type',
] %}

with

files_to_read as (

    select * from {{ arrivals }}
    {%- if file_names is not none %}
    where {% if file_names %}file_name in ({{ ebpf_string_list(file_names) }}){% else %}false{% endif %}
    {%- endif %}

),

event_lines as (

    {{ ebpf_parsed_event_lines(file_names) }}

),

read_at as (

    select now() at time zone 'UTC' as read_at

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
        files_to_read.host_directory,
        files_to_read.file_bytes,
        files_to_read.file_modified_at,
        files_to_read.arrived_at,
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
