with

source as (

    select * from {{ source('search', 'reindex_requests') }}
    {% if var('as_of', none) %}
    where requested_at <= cast('{{ var("as_of") }}' as timestamp)
    {% endif %}

),

renamed as (

    select
        cast(request_id as bigint) as request_id,
        cast(guild_id as bigint) as guild_id,
        cast(requested_at as timestamp) as requested_at,
        cast(reason as varchar) as reason,
        cast(requested_by as varchar) as requested_by
    from source

)

select * from renamed
