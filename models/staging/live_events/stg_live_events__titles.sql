with

source as (

    select * from {{ source('live_events', 'titles') }}

),

renamed as (

    select
        cast(title_id as bigint) as title_id,
        title_name,
        genre,
        maturity_rating,
        cast(release_year as integer) as release_year,
        cast(runtime_minutes as integer) as runtime_minutes,
        synopsis,
        cast(available_from as timestamp) as available_from,
        cast(available_until as timestamp) as available_until

    from source

)

select * from renamed
