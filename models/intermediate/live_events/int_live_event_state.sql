{#-
    Live State Management: each event's effective schedule and state at the clock. Changes apply in the order
    they were decided (`changed_at`, then `change_id`), whatever order they arrived in: the latest change that
    sets a start wins for the start, the latest that sets an end wins for the end (a delay sets both, an early
    end or an overrun only the end). A cancellation is final.
-#}

with

events as (

    select * from {{ ref('stg_live_events__events') }}

),

schedule_changes as (

    select * from {{ ref('int_live_event_schedule_changes_deduped') }}

),

clock as (

    select * from {{ ref('int_live_event_clock') }}

),

start_changes as (

    select
        event_id,
        new_start_at,
        row_number() over (partition by event_id order by changed_at desc, change_id desc) as recency

    from schedule_changes
    where new_start_at is not null

),

end_changes as (

    select
        event_id,
        new_end_at,
        row_number() over (partition by event_id order by changed_at desc, change_id desc) as recency

    from schedule_changes
    where new_end_at is not null

),

change_summary as (

    select
        event_id,
        count(*) as change_count,
        max(changed_at) as last_changed_at,
        min(case when change_type = 'cancel' then changed_at end) as cancelled_at

    from schedule_changes
    group by event_id

),

latest_schedule as (

    select
        events.event_id,
        coalesce(start_changes.new_start_at, events.scheduled_start_at) as effective_start_at,
        coalesce(end_changes.new_end_at, events.scheduled_end_at) as latest_end_at

    from events
    left join start_changes
        on start_changes.event_id = events.event_id
        and start_changes.recency = 1
    left join end_changes
        on end_changes.event_id = events.event_id
        and end_changes.recency = 1

),

effective_schedule as (

    select
        event_id,
        effective_start_at,
        -- an event never ends before it starts, whatever the changes say
        case
            when latest_end_at < effective_start_at then effective_start_at
            else latest_end_at
        end as effective_end_at

    from latest_schedule

),

final as (

    select
        events.event_id,
        events.event_name,
        events.genre,
        events.region,
        events.venue,
        events.scheduled_start_at,
        events.scheduled_end_at,
        effective_schedule.effective_start_at,
        effective_schedule.effective_end_at,
        {{ dbt.datediff('events.scheduled_start_at', 'effective_schedule.effective_start_at', 'minute') }} as start_delay_minutes,
        change_summary.cancelled_at,
        case
            when change_summary.cancelled_at is not null then 'cancelled'
            when clock.evaluated_at >= effective_schedule.effective_end_at then 'ended'
            when clock.evaluated_at >= effective_schedule.effective_start_at then 'live'
            when effective_schedule.effective_start_at > events.scheduled_start_at then 'delayed'
            else 'scheduled'
        end as state,
        coalesce(change_summary.change_count, 0) as change_count,
        change_summary.last_changed_at,
        clock.evaluated_at

    from events
    inner join effective_schedule
        on effective_schedule.event_id = events.event_id
    left join change_summary
        on change_summary.event_id = events.event_id
    cross join clock

)

select * from final
