with

source as (

    select * from {{ source('live_events', 'device_prefetches') }}
    {% if var('as_of', none) %}
    where received_at <= cast('{{ var("as_of") }}' as timestamp)
    {% endif %}

),

renamed as (

    select
        cast(prefetch_id as bigint) as prefetch_id,
        cast(device_id as bigint) as device_id,
        cast(event_id as bigint) as event_id,
        segment_id,
        payload_version,
        cast(prefetched_at as timestamp) as prefetched_at,
        cast(received_at as timestamp) as received_at

    from source

)

select * from renamed
