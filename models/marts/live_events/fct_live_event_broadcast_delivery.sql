{#-
    How each broadcast that has come due reached the devices of its region: how many devices in use at the
    trigger acknowledged it, how many within a minute (the write-up's goal), how fast, and how many repeat
    deliveries the at-least-once broadcaster caused (a device acknowledging the same key again).
-#}

with

broadcast_triggers as (

    select * from {{ ref('fct_live_event_broadcast_triggers') }}

),

broadcast_acks as (

    select * from {{ ref('fct_live_event_broadcast_acks') }}

),

devices as (

    select * from {{ ref('int_live_event_devices') }}

),

due_triggers as (

    select * from broadcast_triggers
    where delivery_status = 'due'

),

expected as (

    select
        due_triggers.idempotency_key,
        count(*) as expected_devices

    from due_triggers
    inner join devices
        on devices.region = due_triggers.region
        and devices.registered_at <= due_triggers.trigger_at
        and (devices.retired_at is null or devices.retired_at > due_triggers.trigger_at)
    group by due_triggers.idempotency_key

),

device_acks as (

    select
        due_triggers.idempotency_key,
        broadcast_acks.device_id,
        count(*) as acks,
        min(broadcast_acks.acked_at) as first_acked_at,
        {{ dbt.datediff('due_triggers.trigger_at', 'min(broadcast_acks.acked_at)', 'millisecond') }} / 1000.0 as ack_seconds

    from due_triggers
    inner join broadcast_acks
        on broadcast_acks.idempotency_key = due_triggers.idempotency_key
    group by
        due_triggers.idempotency_key,
        due_triggers.trigger_at,
        broadcast_acks.device_id

),

delivery as (

    select
        idempotency_key,
        count(*) as devices_acked,
        cast(sum(case when ack_seconds <= 60 then 1 else 0 end) as bigint) as devices_acked_within_minute,
        cast(sum(acks - 1) as bigint) as repeat_deliveries,
        round(percentile_cont(0.5) within group (order by ack_seconds), 3) as median_ack_seconds,
        round(percentile_cont(0.95) within group (order by ack_seconds), 3) as p95_ack_seconds,
        max(first_acked_at) as last_first_ack_at

    from device_acks
    group by idempotency_key

),

final as (

    select
        due_triggers.idempotency_key,
        due_triggers.event_id,
        due_triggers.to_state,
        due_triggers.region,
        due_triggers.trigger_at,
        coalesce(expected.expected_devices, 0) as expected_devices,
        coalesce(delivery.devices_acked, 0) as devices_acked,
        coalesce(delivery.devices_acked_within_minute, 0) as devices_acked_within_minute,
        case
            when coalesce(expected.expected_devices, 0) = 0 then null
            else cast(coalesce(delivery.devices_acked_within_minute, 0) as {{ dbt.type_float() }})
                / expected.expected_devices
        end as acked_within_minute_share,
        coalesce(delivery.repeat_deliveries, 0) as repeat_deliveries,
        delivery.median_ack_seconds,
        delivery.p95_ack_seconds,
        delivery.last_first_ack_at

    from due_triggers
    left join expected
        on expected.idempotency_key = due_triggers.idempotency_key
    left join delivery
        on delivery.idempotency_key = due_triggers.idempotency_key

)

select * from final
