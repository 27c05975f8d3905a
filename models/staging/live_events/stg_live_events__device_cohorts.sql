with

source as (

    select * from {{ source('live_events', 'device_cohorts') }}

),

renamed as (

    select
        device_cohort_id,
        platform,
        cast(prefetch_lead_minutes as integer) as prefetch_lead_minutes,
        cast(prefetch_close_minutes as integer) as prefetch_close_minutes,
        cast(cache_grace_minutes as integer) as cache_grace_minutes,
        cast(max_expiry_jitter_seconds as integer) as max_expiry_jitter_seconds

    from source

)

select * from renamed
