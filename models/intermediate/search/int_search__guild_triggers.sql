{#-
    Feed ticks at which a guild's whole history is (re)considered, one row per (guild, tick):
    - activation: a search (or request) after a quiet period of at least the activity window: the guild's
      history is backfilled (what the index lacks is sent);
    - reindex request: every live document is sent again;
    - promotion: the guild passed the big-guild cap while active during that tick: its documents move to
      the dedicated index. (A guild promoted while idle moves at its next activation.)
-#}
with

activity as (

    select * from {{ ref('int_search__guild_activity') }}

),

routing as (

    select * from {{ ref('int_search__guild_routing') }}

),

activations as (

    select
        guild_id,
        tick_at,
        true as has_activation,
        false as has_reindex_request,
        false as has_promotion
    from activity
    where is_activation

),

reindex_requests as (

    select
        guild_id,
        tick_at,
        false as has_activation,
        true as has_reindex_request,
        false as has_promotion
    from activity
    where activity_kind = 'reindex_request'

),

promotions as (

    select
        routing.guild_id,
        routing.promoted_tick_at as tick_at,
        false as has_activation,
        false as has_reindex_request,
        true as has_promotion
    from routing
    where routing.promoted_tick_at is not null
        and exists (
            select 1
            from activity
            where activity.guild_id = routing.guild_id
                and activity.activity_at > routing.promoted_tick_at - {{ search_active_window() }}
                and activity.activity_at < {{ search_tick_end('routing.promoted_tick_at') }}
        )

),

all_triggers as (

    select * from activations
    union all
    select * from reindex_requests
    union all
    select * from promotions

),

final as (

    select
        guild_id,
        tick_at,
        bool_or(has_activation) as has_activation,
        bool_or(has_reindex_request) as has_reindex_request,
        bool_or(has_promotion) as has_promotion
    from all_triggers
    group by guild_id, tick_at

)

select * from final
