with

source as (

    select * from {{ source('search', 'search_activity') }}
    {% if var('as_of', none) %}
    where searched_at <= cast('{{ var("as_of") }}' as timestamp)
    {% endif %}

),

renamed as (

    select
        cast(search_id as bigint) as search_id,
        cast(guild_id as bigint) as guild_id,
        cast(user_id as bigint) as user_id,
        cast(searched_at as timestamp) as searched_at,
        cast(query_term_count as integer) as query_term_count
    from source

)

select * from renamed
