{#-
    One row per file event: the agent delivers at least once, so an event can come twice (re-emitted in its
    file, or a whole batch re-delivered as another file). The first delivery (file name, then line number)
    is kept; a re-delivered file adds nothing.

    Incremental by file: each run loads the events of the files that arrived (int_ebpf__event_file_arrivals)
    after the newest arrival this table has loaded (`source_arrived_at`), and only those files are opened. An
    event already loaded from an earlier delivery (or the same one, when a grown file is read again) is left
    as it is; one whose new delivery comes first (a late file that sorts earlier) is replaced, by event id
    (delete+insert). So any event time is loaded, however late its file arrives, and increments equal a full
    refresh. A full refresh reads every file on disk.
-#}
{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key='event_id',
        on_schema_change='fail',
    )
}}
{#- The lines of stg_ebpf__event_lines, for the files this run reads (the same macro, limited to them). -#}
-- depends_on: {{ ref('stg_ebpf__event_lines') }}
-- depends_on: {{ ref('int_ebpf__event_file_arrivals') }}
{%- set arrivals = load_relation(ref('int_ebpf__event_file_arrivals')) -%}
{%- if is_incremental() -%}
    {%- set batch = ebpf_files_arrived_since(arrivals, this) -%}
    {%- set file_names, source_arrived_at = batch.file_names, batch.arrived_at -%}
{%- else -%}
    {%- set file_names = none -%}
    {%- set source_arrived_at = ebpf_files_arrived_since(arrivals, none).arrived_at -%}
{%- endif %}

with

event_lines as (

    {{ ebpf_parsed_event_lines(file_names) }}

),

deliveries as materialized (

    select * exclude (raw_line, line_bytes, quarantine_reason, quarantine_detail)
    from event_lines
    where quarantine_reason is null

),

later_deliveries as (

    -- Only the few events delivered more than once are ranked, on their keys alone: a window over all
    -- deliveries would sort every row with its 30 columns.
    select file_name, line_number
    from deliveries
    where event_id in (select event_id from deliveries group by event_id having count(*) > 1)
    qualify row_number() over (partition by event_id order by file_name, line_number) > 1

),

first_deliveries as (

    select *
    from deliveries
    anti join later_deliveries using (file_name, line_number)

),

final as (

    select
        event_id,
        event_type,
        event_category,
        event_outcome,
        event_at,
        date_trunc('minute', event_at) as event_minute,
        host,
        container_id,
        file_path,
        file_basename,
        file_inode,
        file_mount_id,
        file_mode,
        file_uid,
        file_gid,
        file_filesystem,
        process_pid,
        process_ppid,
        process_tid,
        process_uid,
        process_gid,
        process_comm,
        executable_path,
        open_flags,
        rename_destination_path,
        link_destination_path,
        chmod_mode,
        chown_uid,
        chown_gid,
        setxattr_name,
        file_name as first_delivered_in_file,
        line_number as first_delivered_at_line,
        {{ "'" ~ source_arrived_at ~ "'::timestamp" if source_arrived_at else 'null::timestamp' }} as source_arrived_at,
    from first_deliveries
    {%- if is_incremental() %}
    -- Events already loaded from a delivery that comes no later than this one stay as they are.
    anti join {{ this }} as loaded
        on loaded.event_id = first_deliveries.event_id
        and (
            loaded.first_delivered_in_file < first_deliveries.file_name
            or (
                loaded.first_delivered_in_file = first_deliveries.file_name
                and loaded.first_delivered_at_line <= first_deliveries.line_number
            )
        )
    {%- endif %}

)

select * from final
