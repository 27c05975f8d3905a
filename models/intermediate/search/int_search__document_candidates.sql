{#-
    What the feed knows about each message at each tick where it is considered, one row per
    (message, feed tick), with the winning event: the last one by event time, then event id.

    A message is considered at a tick
    - live: one of its events was ingested in that tick while its guild was active (searched within the
      activity window), or it is a DM (DMs are always fed);
    - from history: its guild has a trigger at that tick (activation, reindex request, promotion); then every
      event ingested up to the end of the tick takes part.
    Events of idle guilds are not considered until the guild becomes active: that is the lazy indexing.
    Everything here depends only on data ingested up to the end of each tick, which is what makes the
    incremental action feed equal to a full refresh.
-#}
with

events as (

    select * from {{ ref('int_search__message_events_deduped') }}

),

activity as (

    select * from {{ ref('int_search__guild_activity') }}

),

triggers as (

    select * from {{ ref('int_search__guild_triggers') }}

),

guild_timeline as (

    select
        guild_id,
        ingested_at as happened_at,
        1 as kind_order,
        event_id
    from events
    where guild_id is not null

    union all

    select
        guild_id,
        activity_at as happened_at,
        0 as kind_order,
        null as event_id
    from activity

),

last_activity as (

    select
        event_id,
        max(case when kind_order = 0 then happened_at end) over (
            partition by guild_id
            order by happened_at, kind_order
            rows between unbounded preceding and current row
        ) as last_activity_at
    from guild_timeline

),

events_with_liveness as (

    select
        events.*,
        events.guild_id is null
            or last_activity.last_activity_at > events.ingested_at - {{ search_active_window() }}
            as is_live
    from events
    left join last_activity
        on events.event_id = last_activity.event_id

),

live_candidates as (

    select
        message_id,
        tick_at as candidate_tick_at,
        event_id,
        true as is_live_in_tick
    from events_with_liveness
    where is_live

),

history_candidates as (

    select
        events_with_liveness.message_id,
        triggers.tick_at as candidate_tick_at,
        events_with_liveness.event_id,
        events_with_liveness.is_live and events_with_liveness.tick_at = triggers.tick_at as is_live_in_tick
    from triggers
    inner join events_with_liveness
        on triggers.guild_id = events_with_liveness.guild_id
        and events_with_liveness.tick_at <= triggers.tick_at

),

all_candidates as (

    select * from live_candidates
    union all
    select * from history_candidates

),

ranked as (

    select
        all_candidates.*,
        events.guild_id,
        events.event_type,
        events.event_at,
        row_number() over (
            partition by all_candidates.message_id, all_candidates.candidate_tick_at
            order by events.event_at desc, events.event_id desc, all_candidates.is_live_in_tick desc
        ) as rank_in_tick
    from all_candidates
    inner join events
        on all_candidates.event_id = events.event_id

),

final as (

    select
        ranked.message_id,
        ranked.candidate_tick_at,
        ranked.guild_id,
        ranked.event_id as winning_event_id,
        ranked.event_type as winning_event_type,
        ranked.event_at as winning_event_at,
        ranked.is_live_in_tick as is_winner_live,
        coalesce(triggers.has_activation, false) as has_activation,
        coalesce(triggers.has_reindex_request, false) as has_reindex_request,
        coalesce(triggers.has_promotion, false) as has_promotion
    from ranked
    left join triggers
        on ranked.guild_id = triggers.guild_id
        and ranked.candidate_tick_at = triggers.tick_at
    where ranked.rank_in_tick = 1

)

select * from final
