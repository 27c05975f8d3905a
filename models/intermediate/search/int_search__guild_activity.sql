{#-
    Everything that makes a guild "active" for lazy indexing: searches and explicit reindex requests, one
    row each, with the previous activity of the same guild. An activity that follows no other within the
    window (`search_active_window_days`) activates the guild: its history gets backfilled.
-#}
with

searches as (

    select * from {{ ref('stg_search__search_activity') }}

),

reindex_requests as (

    select * from {{ ref('stg_search__reindex_requests') }}

),

activity as (

    select
        guild_id,
        searched_at as activity_at,
        'search' as activity_kind,
        search_id as activity_id
    from searches

    union all

    select
        guild_id,
        requested_at as activity_at,
        'reindex_request' as activity_kind,
        request_id as activity_id
    from reindex_requests

),

with_previous as (

    select
        *,
        lag(activity_at) over (
            partition by guild_id
            order by activity_at, activity_id
        ) as previous_activity_at
    from activity

),

final as (

    select
        activity_id,
        guild_id,
        activity_kind,
        activity_at,
        previous_activity_at,
        previous_activity_at is null
            or previous_activity_at <= activity_at - {{ search_active_window() }} as is_activation,
        {{ search_tick('activity_at') }} as tick_at
    from with_previous

)

select * from final
