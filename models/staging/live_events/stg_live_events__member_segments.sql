with

source as (

    select * from {{ source('live_events', 'member_segments') }}
    {% if var('as_of', none) %}
    where assigned_at <= cast('{{ var("as_of") }}' as timestamp)
    {% endif %}

),

renamed as (

    select
        cast(member_id as bigint) as member_id,
        segment_id,
        cast(assigned_at as timestamp) as assigned_at

    from source

)

select * from renamed
