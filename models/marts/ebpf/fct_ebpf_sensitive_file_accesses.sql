{#-
    Who touched which sensitive file: one row per host, container, process (comm), executable and file, with
    the sensitivity category, how often and how (event types, refused attempts, writes), and when it was first
    and last seen. Built from every deduplicated event, with the filter decision alongside, so that a rule
    change that would drop sensitive events shows here (and fails this model's test).
-#}
with

events as (

    select * from {{ ref('int_ebpf__filter_decisions') }}

),

patterns as (

    select * from {{ ref('stg_ebpf__sensitive_files') }}

),

matched as (

    select
        events.*,
        patterns.sensitive_category,
    from events
    inner join patterns
        on (patterns.match_kind = 'path' and events.file_path = patterns.pattern)
        or (patterns.match_kind = 'basename' and events.file_basename = patterns.pattern)
        or (patterns.match_kind = 'prefix' and starts_with(events.file_path, patterns.match_prefix))
    -- One category per event when several patterns match: the most specific kind, then the pattern.
    qualify row_number() over (
        partition by events.event_id
        order by patterns.match_specificity, patterns.pattern
    ) = 1

),

final as (

    select
        md5(concat_ws('|', host, coalesce(container_id, ''), process_comm, executable_path, file_path))
            as access_key,
        host,
        container_id,
        process_comm,
        executable_path,
        file_path,
        any_value(sensitive_category) as sensitive_category,
        count(*) as access_count,
        string_agg(distinct event_type, ',' order by event_type) as event_types,
        count_if(event_outcome <> 'Success') as refused_or_failed_count,
        count_if(event_type = 'open' and open_flags & 3 <> 0) as write_open_count,
        count(distinct process_pid) as distinct_pids,
        min(process_uid) as min_process_uid,
        min(event_at) as first_seen_at,
        max(event_at) as last_seen_at,
        count_if(is_kept) as kept_count,
        bool_and(is_kept) as all_kept_by_filter,
    from matched
    group by host, container_id, process_comm, executable_path, file_path

)

select * from final
