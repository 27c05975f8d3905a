with

source as (

    select * from {{ source('live_events', 'devices') }}
    {% if var('as_of', none) %}
    where registered_at <= cast('{{ var("as_of") }}' as timestamp)
    {% endif %}

),

renamed as (

    select
        cast(device_id as bigint) as device_id,
        cast(member_id as bigint) as member_id,
        device_cohort_id,
        cast(registered_at as timestamp) as registered_at,
        cast(retired_at as timestamp) as retired_at

    from source

)

select * from renamed
