{#-
    One row per message event: the queue delivers at least once, so an event can arrive twice. The first
    delivery counts (its ingestion time decides the feed tick the event belongs to); later deliveries of
    the same event id add nothing.
-#}
with

deliveries as (

    select * from {{ ref('stg_search__message_events') }}

),

numbered as (

    select
        *,
        row_number() over (
            partition by event_id
            order by ingested_at, channel_id
        ) as delivery_number,
        count(*) over (partition by event_id) as delivery_count
    from deliveries

),

final as (

    select
        event_id,
        message_id,
        guild_id,
        channel_id,
        author_id,
        event_type,
        content,
        event_at,
        message_created_at,
        ingested_at,
        {{ search_tick('ingested_at') }} as tick_at,
        delivery_count
    from numbered
    where delivery_number = 1

)

select * from final
