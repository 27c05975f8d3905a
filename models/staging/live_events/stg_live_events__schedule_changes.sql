with

source as (

    select * from {{ source('live_events', 'schedule_changes') }}
    {% if var('as_of', none) %}
    where received_at <= cast('{{ var("as_of") }}' as timestamp)
    {% endif %}

),

renamed as (

    select
        cast(change_id as bigint) as change_id,
        cast(event_id as bigint) as event_id,
        change_type,
        cast(new_start_at as timestamp) as new_start_at,
        cast(new_end_at as timestamp) as new_end_at,
        reason as change_reason,
        cast(changed_at as timestamp) as changed_at,
        cast(received_at as timestamp) as received_at

    from source

)

select * from renamed
