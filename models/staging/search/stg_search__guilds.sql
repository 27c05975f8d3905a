with

source as (

    select * from {{ source('search', 'guilds') }}

),

renamed as (

    select
        cast(guild_id as bigint) as guild_id,
        cast(guild_name as varchar) as guild_name,
        cast(owner_id as bigint) as owner_id,
        cast(preferred_locale as varchar) as preferred_locale,
        {{ search_snowflake_timestamp('guild_id') }} as created_at
    from source

)

select * from renamed
