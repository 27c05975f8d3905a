{#-
    Device acknowledgements of broadcast messages, each log row once (its first delivery), loaded as they
    arrive. A device that received a message twice acknowledges it twice: those are two acknowledgements (two
    ack ids) and both stay; only re-shipped log rows are dropped. Incremental on arrival time with a lookback,
    skipping acknowledgements already loaded, so any split into runs gives the same rows as a full refresh.
-#}
{{
    config(
        materialized='incremental',
        unique_key='ack_id',
        incremental_strategy='delete+insert',
        on_schema_change='fail',
    )
}}
{%- set lookback_hours = var('live_events_lookback_hours', 6) -%}

with

broadcast_acks as (

    select * from {{ ref('stg_live_events__broadcast_acks') }}

),

arrived as (

    select broadcast_acks.*
    from broadcast_acks
    {% if is_incremental() %}
    left join {{ this }} as loaded
        on loaded.ack_id = broadcast_acks.ack_id
    where
        loaded.ack_id is null
        and broadcast_acks.received_at > (
            select {{ dbt.dateadd('hour', -lookback_hours, 'coalesce(max(received_at), ' ~ "cast('1970-01-01' as timestamp)" ~ ')') }}
            from {{ this }}
        )
    {% endif %}

),

deliveries_ranked as (

    select
        *,
        row_number() over (partition by ack_id order by received_at) as delivery_number

    from arrived

),

final as (

    select
        ack_id,
        device_id,
        event_id,
        to_state,
        idempotency_key,
        acked_at,
        received_at

    from deliveries_ranked
    where delivery_number = 1

)

select * from final
