{#-
    What each segment watched of each title over the viewing window (whole days before the clock's day, so a
    segment's ranking, and the payload built from it, changes at most once a day), beside what all members
    watched. Every (segment, title) pair is present, with zero minutes where nobody watched.
-#}

with

viewing_history as (

    select * from {{ ref('stg_live_events__viewing_history') }}

),

member_segments as (

    select * from {{ ref('stg_live_events__member_segments') }}

),

segments as (

    select * from {{ ref('stg_live_events__segments') }}

),

titles as (

    select * from {{ ref('stg_live_events__titles') }}

),

clock as (

    select * from {{ ref('int_live_event_clock') }}

),

windowed_views as (

    select
        viewing_history.member_id,
        viewing_history.title_id,
        viewing_history.watched_minutes

    from viewing_history
    cross join clock
    where
        viewing_history.started_at >= clock.viewing_window_start_at
        and viewing_history.started_at < clock.viewing_window_end_at

),

segment_minutes as (

    select
        member_segments.segment_id,
        windowed_views.title_id,
        cast(sum(windowed_views.watched_minutes) as bigint) as segment_minutes

    from windowed_views
    inner join member_segments
        on member_segments.member_id = windowed_views.member_id
    group by
        member_segments.segment_id,
        windowed_views.title_id

),

all_member_minutes as (

    select
        title_id,
        cast(sum(watched_minutes) as bigint) as all_members_minutes

    from windowed_views
    group by title_id

),

final as (

    select
        segments.segment_id,
        titles.title_id,
        coalesce(segment_minutes.segment_minutes, 0) as segment_minutes,
        coalesce(all_member_minutes.all_members_minutes, 0) as all_members_minutes

    from segments
    cross join titles
    left join segment_minutes
        on segment_minutes.segment_id = segments.segment_id
        and segment_minutes.title_id = titles.title_id
    left join all_member_minutes
        on all_member_minutes.title_id = titles.title_id

)

select * from final
