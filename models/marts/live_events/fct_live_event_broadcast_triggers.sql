{#-
    The broadcast messages: one per event and state change (live at the effective start, ended at the
    effective end, cancelled at the cancellation), with its time from the latest schedule. Small on purpose:
    it names the event and the state, and devices show what they prefetched.

    The idempotency key is the md5 of "event_id|to_state|trigger time in epoch seconds": the same on every run
    while the schedule stands, so an at-least-once broadcaster may send a message again and devices drop the
    repeat; a delay moves a pending trigger and gives it a new key (the old message was never due). A
    cancellation withdraws every trigger still pending when it was made; triggers already due stay, as
    history.
-#}

with

event_state as (

    select * from {{ ref('int_live_event_state') }}

),

clock as (

    select * from {{ ref('int_live_event_clock') }}

),

transitions as (

    select
        event_id,
        'live' as to_state,
        effective_start_at as trigger_at,
        scheduled_start_at as originally_scheduled_at

    from event_state

    union all

    select
        event_id,
        'ended' as to_state,
        effective_end_at as trigger_at,
        scheduled_end_at as originally_scheduled_at

    from event_state

    union all

    select
        event_id,
        'cancelled' as to_state,
        cancelled_at as trigger_at,
        cast(null as timestamp) as originally_scheduled_at

    from event_state
    where cancelled_at is not null

),

standing as (

    select
        transitions.*,
        event_state.region,
        event_state.state as event_state

    from transitions
    inner join event_state
        on event_state.event_id = transitions.event_id
    where
        event_state.cancelled_at is null
        or transitions.to_state = 'cancelled'
        or transitions.trigger_at <= event_state.cancelled_at

),

keyed as (

    select
        *,
        {{ dbt.hash(dbt.concat([
            "cast(event_id as " ~ dbt.type_string() ~ ")", "'|'",
            "to_state", "'|'",
            "cast(" ~ dbt.datediff("cast('1970-01-01' as timestamp)", "trigger_at", "second") ~ " as " ~ dbt.type_string() ~ ")",
        ])) }} as idempotency_key

    from standing

),

final as (

    select
        keyed.idempotency_key,
        keyed.event_id,
        keyed.to_state,
        keyed.region,
        keyed.event_state,
        keyed.trigger_at,
        keyed.originally_scheduled_at,
        {{ dbt.datediff('keyed.originally_scheduled_at', 'keyed.trigger_at', 'minute') }} as shift_minutes,
        case when keyed.trigger_at <= clock.evaluated_at then 'due' else 'pending' end as delivery_status,
        {{ dbt.concat([
            "'{\"event_id\":'", "cast(keyed.event_id as " ~ dbt.type_string() ~ ")",
            "',\"state\":\"'", "keyed.to_state",
            "'\",\"key\":\"'", "keyed.idempotency_key", "'\"}'",
        ]) }} as message_body

    from keyed
    cross join clock

)

select * from final
