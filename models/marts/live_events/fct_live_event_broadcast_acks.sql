{#-
    Device acknowledgements of broadcast messages, each log row once (its first delivery), loaded as they
    arrive. A device that received a message twice acknowledges it twice: those are two acknowledgements (two
    ack ids) and both stay; only re-shipped log rows are dropped. Incremental on arrival time with Overclock's
    append_lookback strategy: a run reads the acknowledgements received from `live_events_lookback_hours`
    hours before the newest one loaded and appends those whose ack id is not loaded yet, so any split into
    runs gives the same rows as a full refresh. Hourly partitions on arrival also make the model backfillable:
    `overclock backfill -s fct_live_event_broadcast_acks --grain hour --start ... --end ...`.
-#}
{{
    config(
        materialized='incremental',
        incremental_strategy='append_lookback',
        unique_key='ack_id',
        partition_by={'field': 'received_at', 'data_type': 'timestamp', 'granularity': 'hour'},
        lookback=var('live_events_lookback_hours', 6),
        on_schema_change='fail',
    )
}}

with

broadcast_acks as (

    select * from {{ ref('stg_live_events__broadcast_acks') }}

),

arrived as (

    select *
    from broadcast_acks
    where {{ partition_window('received_at', 'timestamp') }}

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
