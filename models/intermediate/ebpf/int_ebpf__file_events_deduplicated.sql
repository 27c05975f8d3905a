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

deliveries as (

    select * from {{ ref('stg_ebpf__file_events') }}
    {%- if is_incremental() %}
    where event_at > (
        select coalesce(max(event_at), '1970-01-01'::timestamp) - to_minutes({{ var('ebpf_lookback_minutes', 60) }})
        from {{ this }}
    )
    {%- endif %}

),

first_deliveries as (

    -- arg_min over the whole row: one hash aggregation, cheaper than a window sort at millions of rows.
    select arg_min(deliveries, (deliveries.file_name, deliveries.line_number)) as delivery
    from deliveries
    group by deliveries.event_id

),

final as (

    select
        delivery.event_id,
        delivery.event_type,
        delivery.event_category,
        delivery.event_outcome,
        delivery.event_at,
        date_trunc('minute', delivery.event_at) as event_minute,
        delivery.host,
        delivery.container_id,
        delivery.file_path,
        delivery.file_basename,
        delivery.file_inode,
        delivery.file_mount_id,
        delivery.file_mode,
        delivery.file_uid,
        delivery.file_gid,
        delivery.file_filesystem,
        delivery.process_pid,
        delivery.process_ppid,
        delivery.process_tid,
        delivery.process_uid,
        delivery.process_gid,
        delivery.process_comm,
        delivery.executable_path,
        delivery.open_flags,
        delivery.rename_destination_path,
        delivery.link_destination_path,
        delivery.chmod_mode,
        delivery.chown_uid,
        delivery.chown_gid,
        delivery.setxattr_name,
        delivery.file_name as first_delivered_in_file,
        delivery.line_number as first_delivered_at_line,
    from first_deliveries

)

select * from final
