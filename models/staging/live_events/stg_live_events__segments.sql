with

source as (

    select * from {{ source('live_events', 'segments') }}
    {% if var('as_of', none) %}
    where created_at <= cast('{{ var("as_of") }}' as timestamp)
    {% endif %}

),

renamed as (

    select
        segment_id,
        segment_name,
        region,
        favourite_genre,
        cast(created_at as timestamp) as created_at

    from source

)

select * from renamed
