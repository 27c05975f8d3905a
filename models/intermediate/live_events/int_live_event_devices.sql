{#- Every device with the member, segment and region it belongs to, and its cohort's settings. -#}

with

devices as (

    select * from {{ ref('stg_live_events__devices') }}

),

member_segments as (

    select * from {{ ref('stg_live_events__member_segments') }}

),

segments as (

    select * from {{ ref('stg_live_events__segments') }}

),

device_cohorts as (

    select * from {{ ref('stg_live_events__device_cohorts') }}

),

final as (

    select
        devices.device_id,
        devices.member_id,
        member_segments.segment_id,
        segments.region,
        devices.device_cohort_id,
        device_cohorts.platform,
        devices.registered_at,
        devices.retired_at

    from devices
    inner join member_segments
        on member_segments.member_id = devices.member_id
    inner join segments
        on segments.segment_id = member_segments.segment_id
    inner join device_cohorts
        on device_cohorts.device_cohort_id = devices.device_cohort_id

)

select * from final
