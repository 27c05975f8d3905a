{#-
    The lines that parsed: one row per delivery of a file event (a re-delivered event appears once per
    delivery). Cut at `event_at <= var('as_of')` when the variable is set, so that building at increasing
    `as_of` values replays the feed in increments.
-#}
with

event_lines as (

    select * from {{ ref('stg_ebpf__event_lines') }}

),

final as (

    select
        event_id,
        event_type,
        event_category,
        event_outcome,
        event_at,
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
        file_name,
        line_number,
    from event_lines
    where quarantine_reason is null
    {%- if var('as_of', none) %}
        and event_at <= '{{ var('as_of') }}'::timestamp
    {%- endif %}

)

select * from final
