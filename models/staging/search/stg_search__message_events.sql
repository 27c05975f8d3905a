{#-
    One row per delivery of a message event. Deliveries are kept as they arrived (duplicates included):
    deduplication and ordering are the intermediate layer's business. `as_of` (a timestamp var) cuts the
    feed at a delivery time, so that a build can be replayed as of any moment.
-#}
with

source as (

    select * from {{ source('search', 'message_events') }}
    {% if var('as_of', none) %}
    where ingested_at <= cast('{{ var("as_of") }}' as timestamp)
    {% endif %}

),

renamed as (

    select
        cast(event_id as bigint) as event_id,
        cast(message_id as bigint) as message_id,
        cast(guild_id as bigint) as guild_id,
        cast(channel_id as bigint) as channel_id,
        cast(author_id as bigint) as author_id,
        cast(event_type as varchar) as event_type,
        cast(content as varchar) as content,
        {{ search_snowflake_timestamp('event_id') }} as event_at,
        {{ search_snowflake_timestamp('message_id') }} as message_created_at,
        cast(ingested_at as timestamp) as ingested_at
    from source

)

select * from renamed
