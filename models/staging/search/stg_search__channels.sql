with

source as (

    select * from {{ source('search', 'channels') }}

),

renamed as (

    select
        cast(channel_id as bigint) as channel_id,
        cast(guild_id as bigint) as guild_id,
        cast(channel_type as varchar) as channel_type,
        cast(channel_name as varchar) as channel_name,
        guild_id is null as is_dm,
        {{ search_snowflake_timestamp('channel_id') }} as created_at
    from source

)

select * from renamed
