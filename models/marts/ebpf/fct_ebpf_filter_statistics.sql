{#-
    The in-kernel filtering statistics of the write-up, computed here: per host, minute and event type, how
    many file events the filter saw, approved, discarded and kept (kept = seen - discarded; approved events are
    kept whatever the prefix rules say).

    Incremental: each run recomputes, from all the deduplicated events, exactly the (host, minute, event type)
    groups that the events loaded since its last run fall in (`source_arrived_at`, as in the events table),
    replacing them by key; however late an event arrives, its minute is recounted. After changing the rules,
    rebuild it with --full-refresh.
-#}
{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key=['host', 'event_minute', 'event_type'],
        on_schema_change='fail',
    )
}}
{%- set events = ref('int_ebpf__file_events_deduplicated') %}

with

decisions as (

    select * from {{ ref('int_ebpf__filter_decisions') }}
    {%- if is_incremental() %}
    where (host, event_minute, event_type) in (
        select distinct host, event_minute, event_type
        from {{ events }}
        where source_arrived_at > (
            select coalesce(max(counted.source_arrived_at), '-infinity'::timestamp) from {{ this }} as counted
        )
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
        max(source_arrived_at) as source_arrived_at,
    from decisions
    group by host, event_minute, event_type

)

select * from final
