{#-
    Before a coming event starts: of the devices expected to show it (in use, in the event's region), how many
    already hold the current payload version of their segment, how many hold an older one, and how many hold
    nothing yet. One row per coming event and device cohort.
-#}

with

prefetch_plan as (

    select * from {{ ref('fct_live_event_prefetch_plan') }}

),

devices as (

    select * from {{ ref('int_live_event_devices') }}

),

device_prefetches as (

    select * from {{ ref('fct_live_event_device_prefetches') }}

),

clock as (

    select * from {{ ref('int_live_event_clock') }}

),

devices_in_use as (

    select devices.*
    from devices
    cross join clock
    where
        devices.registered_at <= clock.evaluated_at
        and (devices.retired_at is null or devices.retired_at > clock.evaluated_at)

),

expected_devices as (

    select
        prefetch_plan.event_id,
        prefetch_plan.device_cohort_id,
        prefetch_plan.payload_version as current_payload_version,
        devices_in_use.device_id

    from prefetch_plan
    inner join devices_in_use
        on devices_in_use.segment_id = prefetch_plan.segment_id
        and devices_in_use.device_cohort_id = prefetch_plan.device_cohort_id

),

latest_prefetches as (

    select
        device_prefetches.device_id,
        device_prefetches.event_id,
        device_prefetches.payload_version,
        row_number() over (
            partition by device_prefetches.device_id, device_prefetches.event_id
            order by device_prefetches.prefetched_at desc, device_prefetches.prefetch_id desc
        ) as recency

    from device_prefetches
    cross join clock
    where device_prefetches.prefetched_at <= clock.evaluated_at

),

holdings as (

    select
        expected_devices.event_id,
        expected_devices.device_cohort_id,
        case
            when latest_prefetches.payload_version is null then 'missing'
            when latest_prefetches.payload_version = expected_devices.current_payload_version then 'current'
            else 'stale'
        end as holding

    from expected_devices
    left join latest_prefetches
        on latest_prefetches.device_id = expected_devices.device_id
        and latest_prefetches.event_id = expected_devices.event_id
        and latest_prefetches.recency = 1

),

coverage as (

    select
        event_id,
        device_cohort_id,
        count(*) as expected_devices,
        cast(sum(case when holding = 'current' then 1 else 0 end) as bigint) as devices_current,
        cast(sum(case when holding = 'stale' then 1 else 0 end) as bigint) as devices_stale,
        cast(sum(case when holding = 'missing' then 1 else 0 end) as bigint) as devices_missing

    from holdings
    group by
        event_id,
        device_cohort_id

),

cohort_windows as (

    select
        event_id,
        device_cohort_id,
        min(effective_start_at) as effective_start_at,
        min(prefetch_opens_at) as prefetch_opens_at,
        min(prefetch_closes_at) as prefetch_closes_at

    from prefetch_plan
    group by
        event_id,
        device_cohort_id

),

final as (

    select
        cohort_windows.event_id,
        cohort_windows.device_cohort_id,
        cohort_windows.effective_start_at,
        cohort_windows.prefetch_opens_at,
        cohort_windows.prefetch_closes_at,
        {{ dbt.datediff('clock.evaluated_at', 'cohort_windows.effective_start_at', 'minute') }} as minutes_to_start,
        coalesce(coverage.expected_devices, 0) as expected_devices,
        coalesce(coverage.devices_current, 0) as devices_current,
        coalesce(coverage.devices_stale, 0) as devices_stale,
        coalesce(coverage.devices_missing, 0) as devices_missing,
        case
            when coalesce(coverage.expected_devices, 0) = 0 then null
            else cast(coverage.devices_current as {{ dbt.type_float() }}) / coverage.expected_devices
        end as current_share,
        clock.evaluated_at

    from cohort_windows
    left join coverage
        on coverage.event_id = cohort_windows.event_id
        and coverage.device_cohort_id = cohort_windows.device_cohort_id
    cross join clock

)

select * from final
