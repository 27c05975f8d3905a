{#-
    The routing table of the search indices, one row per routing key: every guild and every DM channel.
    Guilds route to a shared index of their cell until their document count passes the big-guild cap, then
    to a dedicated index with several primary shards; DM channels route by channel to DM indices.
    `is_active` and `last_activity_at` tell whether the guild is currently fed (lazy indexing).
-#}
with

guild_routing as (

    select * from {{ ref('int_search__guild_routing') }}

),

dm_routing as (

    select * from {{ ref('int_search__dm_channel_routing') }}

),

activity as (

    select * from {{ ref('int_search__guild_activity') }}

),

events as (

    select * from {{ ref('int_search__message_events_deduped') }}

),

last_activity as (

    select
        guild_id,
        max(activity_at) as last_activity_at
    from activity
    group by guild_id

),

dm_documents as (

    select
        channel_id,
        count(distinct message_id) as document_count
    from events
    where guild_id is null
    group by channel_id

),

guild_rows as (

    select
        'guild:' || cast(guild_routing.guild_id as varchar) as routing_key_id,
        'guild' as routing_scope,
        guild_routing.guild_id,
        cast(null as bigint) as channel_id,
        guild_routing.cell_name,
        case when guild_routing.is_big then guild_routing.dedicated_cluster_name
            else guild_routing.shared_cluster_name end as cluster_name,
        case when guild_routing.is_big then guild_routing.dedicated_index_name
            else guild_routing.shared_index_name end as index_name,
        case when guild_routing.is_big then guild_routing.dedicated_primary_shards
            else guild_routing.shared_primary_shards end as primary_shards,
        guild_routing.is_big as has_dedicated_index,
        guild_routing.document_count,
        guild_routing.promoted_at,
        last_activity.last_activity_at,
        coalesce(
            last_activity.last_activity_at
                > {{ search_watermark(ref('stg_search__message_events')) }} - {{ search_active_window() }},
            false
        ) as is_active
    from guild_routing
    left join last_activity
        on guild_routing.guild_id = last_activity.guild_id

),

dm_rows as (

    select
        'channel:' || cast(dm_routing.channel_id as varchar) as routing_key_id,
        'dm_channel' as routing_scope,
        cast(null as bigint) as guild_id,
        dm_routing.channel_id,
        dm_routing.cell_name,
        dm_routing.cluster_name,
        dm_routing.index_name,
        dm_routing.primary_shards,
        false as has_dedicated_index,
        coalesce(dm_documents.document_count, 0) as document_count,
        cast(null as timestamp) as promoted_at,
        cast(null as timestamp) as last_activity_at,
        true as is_active
    from dm_routing
    left join dm_documents
        on dm_routing.channel_id = dm_documents.channel_id

),

final as (

    select * from guild_rows
    union all
    select * from dm_rows

)

select * from final
