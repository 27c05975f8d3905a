{#-
    One row per file event: the agent delivers at least once, so an event can come twice (re-emitted in its
    file, or a whole batch re-delivered as another file). The first delivery (file name, then line number)
    is kept; a re-delivered file adds nothing.

    Incremental by event time: each run reads the events later than the newest one already loaded minus
    `ebpf_lookback_minutes` (default 60: how late an event may arrive and still be loaded incrementally) and
    replaces them by event id, so re-reading that window is idempotent. All deliveries of one event share its
    event time, so they are always in the same window and the first one wins as in a full refresh.
-#}
{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key='event_id',
        on_schema_change='fail',
    )
}}

with

deliveries as materialized (

    select * from {{ ref('stg_ebpf__file_events') }}
    {%- if is_incremental() %}
    where event_at > (
        select coalesce(max(event_at), '1970-01-01'::timestamp) - to_minutes({{ var('ebpf_lookback_minutes', 60) }})
        from {{ this }}
    )
    {%- endif %}

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
    from first_deliveries

)

select * from final
