with

source as (

    select * from {{ source('live_events', 'artwork') }}

),

renamed as (

    select
        cast(artwork_id as bigint) as artwork_id,
        cast(title_id as bigint) as title_id,
        image_type,
        url as image_url,
        cast(width as integer) as width_pixels,
        cast(height as integer) as height_pixels,
        cast(updated_at as timestamp) as updated_at

    from source

)

select * from renamed
