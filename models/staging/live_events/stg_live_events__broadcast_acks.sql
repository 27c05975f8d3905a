with

source as (

    select * from {{ source('live_events', 'broadcast_acks') }}
    {% if var('as_of', none) %}
    where received_at <= cast('{{ var("as_of") }}' as timestamp)
    {% endif %}

),

renamed as (

    select
        cast(ack_id as bigint) as ack_id,
        cast(device_id as bigint) as device_id,
        cast(event_id as bigint) as event_id,
        to_state,
        idempotency_key,
        cast(acked_at as timestamp) as acked_at,
        cast(received_at as timestamp) as received_at

    from source

)

select * from renamed
