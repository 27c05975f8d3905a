{#-
    One row per message as it reads now: the latest create or edit of each message. A message whose latest
    event deletes it is gone, and contributes nothing to the vocabulary. Duplicate deliveries of an event
    carry the same content, so whichever one wins the ordering gives the same row.
-#}
with

events as (

    select * from {{ ref('stg_search__message_events') }}

),

ranked as (

    select
        message_id,
        author_id,
        event_type,
        content,
        row_number() over (
            partition by message_id
            order by event_at desc, event_id desc
        ) as recency
    from events

),

final as (

    select
        message_id,
        author_id,
        content,
    from ranked
    where
        recency = 1
        and event_type <> 'delete'
        and content is not null
        and author_id is not null

)

select * from final
