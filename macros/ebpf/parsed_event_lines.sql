{#-
    Every input line, numbered within its file, and either parsed or given a quarantine reason: nothing is
    dropped. The JSON is parsed once per line (`json_transform` into a struct of VARCHAR fields, one per path:
    cheaper than `json_extract_string` with a list of paths, and the fields are read by name) into text values,
    which are then cast; a value that is present but does not cast is a wrong type, a required value that is
    absent is a missing field. The first failing check names the reason, in this order:
        empty_line, invalid_utf8, invalid_json, not_a_json_object, missing_required_field,
        wrong_field_type, bad_timestamp, unknown_event_type.
    A quarantined line keeps whatever fields could be read (null where not). The fields of the agent's
    format are data (`event_fields` below): adding one is one line.

    `file_names` (names as `events/<host>/<file>`) limits the read to those files; none reads them all. The
    staging view stg_ebpf__event_lines is this macro over every file; the incremental models that read the
    files call it with the files they have not read yet, since a view takes no parameters and DuckDB skips
    a file only when the filter on its name comes before the line numbering.
-#}
{% macro ebpf_parsed_event_lines(file_names=none) %}
{%- set event_fields = [
    {'column': 'event_id', 'path': '$.evt.id', 'type': 'varchar', 'required': true},
    {'column': 'event_type', 'path': '$.evt.name', 'type': 'varchar', 'required': true},
    {'column': 'event_category', 'path': '$.evt.category', 'type': 'varchar'},
    {'column': 'event_outcome', 'path': '$.evt.outcome', 'type': 'varchar'},
    {'column': 'event_date', 'path': '$.date', 'type': 'varchar', 'required': true},
    {'column': 'file_path', 'path': '$.file.path', 'type': 'varchar', 'required': true},
    {'column': 'file_basename', 'path': '$.file.name', 'type': 'varchar'},
    {'column': 'file_inode', 'path': '$.file.inode', 'type': 'ubigint'},
    {'column': 'file_mount_id', 'path': '$.file.mount_id', 'type': 'integer'},
    {'column': 'file_mode', 'path': '$.file.mode', 'type': 'integer'},
    {'column': 'file_uid', 'path': '$.file.uid', 'type': 'bigint'},
    {'column': 'file_gid', 'path': '$.file.gid', 'type': 'bigint'},
    {'column': 'file_filesystem', 'path': '$.file.filesystem', 'type': 'varchar'},
    {'column': 'process_pid', 'path': '$.process.pid', 'type': 'bigint', 'required': true},
    {'column': 'process_ppid', 'path': '$.process.ppid', 'type': 'bigint'},
    {'column': 'process_tid', 'path': '$.process.tid', 'type': 'bigint'},
    {'column': 'process_uid', 'path': '$.process.uid', 'type': 'bigint'},
    {'column': 'process_gid', 'path': '$.process.gid', 'type': 'bigint'},
    {'column': 'process_comm', 'path': '$.process.comm', 'type': 'varchar'},
    {'column': 'executable_path', 'path': '$.process.executable.path', 'type': 'varchar'},
    {'column': 'process_container_id', 'path': '$.process.container.id', 'type': 'varchar'},
    {'column': 'event_container_id', 'path': '$.container.id', 'type': 'varchar'},
    {'column': 'host', 'path': '$.host', 'type': 'varchar', 'required': true},
    {'column': 'open_flags', 'path': '$.open.flags', 'type': 'bigint'},
    {'column': 'rename_destination_path', 'path': '$.rename.destination.path', 'type': 'varchar'},
    {'column': 'link_destination_path', 'path': '$.link.destination.path', 'type': 'varchar'},
    {'column': 'chmod_mode', 'path': '$.chmod.mode', 'type': 'integer'},
    {'column': 'chown_uid', 'path': '$.chown.uid', 'type': 'bigint'},
    {'column': 'chown_gid', 'path': '$.chown.gid', 'type': 'bigint'},
    {'column': 'setxattr_name', 'path': '$.setxattr.name', 'type': 'varchar'},
] -%}
{%- set event_types = var('ebpf_event_types', [
    'open', 'unlink', 'rename', 'chmod', 'chown', 'mkdir', 'rmdir', 'link', 'utimes', 'setxattr', 'exec',
]) -%}
{#- The json_transform structure: the fields' paths as nested objects, every leaf VARCHAR. -#}
{%- set structure = {} -%}
{%- for field in event_fields -%}
    {%- set parts = field.path[2:].split('.') -%}
    {%- set node = namespace(value=structure) -%}
    {%- for part in parts[:-1] -%}
        {%- if part not in node.value -%}{%- do node.value.update({part: {}}) -%}{%- endif -%}
        {%- set node.value = node.value[part] -%}
    {%- endfor -%}
    {%- do node.value.update({parts[-1]: 'VARCHAR'}) -%}
{%- endfor -%}
{%- set typed_fields = event_fields | rejectattr('type', 'equalto', 'varchar') | list -%}
{%- set required_fields = event_fields | selectattr('required') | list -%}
with

source as materialized (

    select
        filename,
        line,
        -- The reader emits files and lines in order (insertion order is preserved), so this numbers lines.
        -- A streaming window; materialized once, so that the file offsets below need no second read.
        row_number() over () as read_position
    from {{ source('ebpf', 'event_lines') }}
    {%- if file_names is not none and file_names | length == 0 %}
    where false
    {%- elif file_names is not none %}
    -- Before the numbering, so that DuckDB opens only these files (it prunes a glob by constant filters on
    -- the file name, but not through a window).
    where {{ ebpf_file_name('filename') }} in ({{ ebpf_string_list(file_names) }})
    {%- endif %}

),

file_offsets as (

    -- One row per file (a narrow aggregate): cheaper than a window partitioned by file over the raw lines.
    select
        filename,
        min(read_position) - 1 as lines_before_file,
        {{ ebpf_file_name('filename') }} as file_name
    from source
    group by filename

),

numbered as (

    select
        file_offsets.file_name,
        source.read_position - file_offsets.lines_before_file as line_number,
        source.line as raw_line
    from source
    inner join file_offsets on source.filename = file_offsets.filename

),

syntax_checked as (

    select
        *,
        case
            when raw_line is null or raw_line = '' then 'empty_line'
            when contains(raw_line, chr(26)) then 'invalid_utf8'
            when not json_valid(raw_line) then
                -- Blanks and tabs only (a CRLF file's blank line reads as a tab): an empty line.
                case when trim(raw_line, chr(32) || chr(9)) = '' then 'empty_line' else 'invalid_json' end
            when not starts_with(raw_line, '{') and json_type(raw_line) <> 'OBJECT' then 'not_a_json_object'
        end as syntax_error
    from numbered

),

extracted as (

    select
        *,
        case when syntax_error is null then json_transform(raw_line, '{{ tojson(structure) }}') end as field_texts
    from syntax_checked

),

typed as (

    select
        file_name,
        line_number,
        raw_line,
        syntax_error,
        {%- for field in event_fields %}
        field_texts.{{ field.path[2:] }} as {{ field.column }}_text,
        {%- if field.type != 'varchar' %}
        try_cast(field_texts.{{ field.path[2:] }} as {{ field.type }}) as {{ field.column }},
        {%- endif %}
        {%- endfor %}
        coalesce(
            try_strptime(field_texts.date, ['%Y-%m-%dT%H:%M:%S.%fZ', '%Y-%m-%dT%H:%M:%SZ']),
            try_cast(field_texts.date as timestamptz) at time zone 'UTC'
        ) as event_at
    from extracted

),

reasoned as (

    select
        *,
        case
            when syntax_error is not null then syntax_error
            when {% for field in required_fields %}{{ field.column }}_text is null{{ ' or ' if not loop.last }}{% endfor %}
                then 'missing_required_field'
            when {% for field in typed_fields -%}
                ({{ field.column }}_text is not null and {{ field.column }} is null){{ ' or ' if not loop.last }}
                {%- endfor %}
                then 'wrong_field_type'
            when event_at is null then 'bad_timestamp'
            when event_type_text not in ('{{ event_types | join("', '") }}') then 'unknown_event_type'
        end as quarantine_reason
    from typed

),

final as (

    select
        file_name,
        line_number,
        raw_line,
        strlen(raw_line) as line_bytes,
        quarantine_reason,
        -- Only quarantined lines pay for naming the fields at fault.
        case quarantine_reason
            when 'missing_required_field' then 'missing: ' || concat_ws(', ',
                {%- for field in required_fields %}
                case when {{ field.column }}_text is null then '{{ field.path[2:] }}' end{{ ',' if not loop.last }}
                {%- endfor %}
            )
            when 'wrong_field_type' then 'wrong type: ' || concat_ws(', ',
                {%- for field in typed_fields %}
                case when {{ field.column }}_text is not null and {{ field.column }} is null
                    then '{{ field.path[2:] }}' end{{ ',' if not loop.last }}
                {%- endfor %}
            )
            when 'bad_timestamp' then 'date: ' || event_date_text
            when 'unknown_event_type' then 'evt.name: ' || event_type_text
        end as quarantine_detail,
        {%- for field in event_fields if field.column not in ('event_date', 'process_container_id', 'event_container_id') %}
        {{ field.column }}{{ '_text as ' ~ field.column if field.type == 'varchar' }},
        {%- endfor %}
        event_at,
        coalesce(event_container_id_text, process_container_id_text) as container_id
    from reasoned

)

select * from final
{% endmacro %}
