{#-
    The schedule-change log, each change once (its first delivery), loaded as it arrives. Incremental on
    arrival time: each run reads what arrived since the last loaded arrival minus a lookback (for files that
    land late) and skips changes already loaded, so re-deliveries add nothing and any split of the log into
    runs gives the same rows as one full refresh.
-#}
{{
    config(
        materialized='incremental',
        unique_key='change_id',
        incremental_strategy='delete+insert',
        on_schema_change='fail',
    )
}}
{%- set lookback_hours = var('live_events_lookback_hours', 6) -%}

with

schedule_changes as (

    select * from {{ ref('stg_live_events__schedule_changes') }}

),

arrived as (

    select schedule_changes.*
    from schedule_changes
    {% if is_incremental() %}
    left join {{ this }} as loaded
        on loaded.change_id = schedule_changes.change_id
    where
        loaded.change_id is null
        and schedule_changes.received_at > (
            select {{ dbt.dateadd('hour', -lookback_hours, 'coalesce(max(received_at), ' ~ "cast('1970-01-01' as timestamp)" ~ ')') }}
            from {{ this }}
        )
    {% endif %}

),

deliveries_ranked as (

    select
        *,
        row_number() over (partition by change_id order by received_at) as delivery_number

    from arrived

),

final as (

    select
        change_id,
        event_id,
        change_type,
        new_start_at,
        new_end_at,
        change_reason,
        changed_at,
        received_at

    from deliveries_ranked
    where delivery_number = 1

)

select * from final
