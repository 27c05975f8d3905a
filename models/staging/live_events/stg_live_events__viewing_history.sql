with

source as (

    select * from {{ source('live_events', 'viewing_history') }}
    {% if var('as_of', none) %}
    where received_at <= cast('{{ var("as_of") }}' as timestamp)
    {% endif %}

),

renamed as (

    select
        cast(view_id as bigint) as view_id,
        cast(member_id as bigint) as member_id,
        cast(device_id as bigint) as device_id,
        cast(title_id as bigint) as title_id,
        cast(started_at as timestamp) as started_at,
        cast(watched_minutes as integer) as watched_minutes,
        cast(received_at as timestamp) as received_at

    from source

)

select * from renamed
