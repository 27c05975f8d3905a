with

source as (

    select * from {{ source('live_events', 'live_events') }}
    {% if var('as_of', none) %}
    where announced_at <= cast('{{ var("as_of") }}' as timestamp)
    {% endif %}

),

renamed as (

    select
        cast(event_id as bigint) as event_id,
        event_name,
        genre,
        region,
        venue,
        cast(scheduled_start_at as timestamp) as scheduled_start_at,
        cast(scheduled_end_at as timestamp) as scheduled_end_at,
        cast(announced_at as timestamp) as announced_at

    from source

)

select * from renamed
