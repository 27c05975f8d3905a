{#-
    The in-kernel filtering statistics of the write-up, computed here: per host, minute and event type, how
    many file events the filter saw, approved, discarded and kept (kept = seen - discarded; approved events are
    kept whatever the prefix rules say).

    Incremental: each run recomputes whole minutes from `ebpf_lookback_minutes` before the newest minute
    already loaded (the same lateness bound as int_ebpf__file_events_deduplicated), replacing them by key.
    After changing the rules, rebuild it with --full-refresh.
-#}
{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key=['host', 'event_minute', 'event_type'],
        on_schema_change='fail',
    )
}}

with

decisions as (

    select * from {{ ref('int_ebpf__filter_decisions') }}
    {%- if is_incremental() %}
    where event_minute >= (
        select coalesce(max(event_minute), '1970-01-01'::timestamp) - to_minutes({{ var('ebpf_lookback_minutes', 60) }})
        from {{ this }}
    )
    {%- endif %}

),

final as (

    select
        host,
        event_minute,
        event_type,
        count(*) as events_seen,
        count_if(filter_decision = 'approved') as events_approved,
        count_if(filter_decision = 'discarded') as events_discarded,
        count_if(is_kept) as events_kept,
    from decisions
    group by host, event_minute, event_type

)

select * from final
