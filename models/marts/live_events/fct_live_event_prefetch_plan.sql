{#-
    When each device cohort prefetches each payload, and when its cache expires. One row per segment, coming
    event and device cohort. The window opens the cohort's lead time before the effective start and closes
    shortly before it (devices pick their own moment inside it); the cache lives until the effective end plus
    the cohort's grace, plus a jitter so that a cohort's devices do not all come back at once. The jitter is a
    hash of (event, segment, cohort): the same on every run, different between rows.
-#}

with

recommendations as (

    select * from {{ ref('fct_live_event_recommendations') }}

),

event_state as (

    select * from {{ ref('int_live_event_state') }}

),

device_cohorts as (

    select * from {{ ref('stg_live_events__device_cohorts') }}

),

clock as (

    select * from {{ ref('int_live_event_clock') }}

),

payloads as (

    select distinct
        segment_id,
        event_id,
        payload_version,
        payload_title_count

    from recommendations

),

planned as (

    select
        payloads.segment_id,
        payloads.event_id,
        device_cohorts.device_cohort_id,
        payloads.payload_version,
        payloads.payload_title_count,
        event_state.effective_start_at,
        event_state.effective_end_at,
        {{ dbt.dateadd('minute', '-device_cohorts.prefetch_lead_minutes', 'event_state.effective_start_at') }} as prefetch_opens_at,
        {{ dbt.dateadd('minute', '-device_cohorts.prefetch_close_minutes', 'event_state.effective_start_at') }} as prefetch_closes_at,
        {{ dbt.dateadd('minute', 'device_cohorts.cache_grace_minutes', 'event_state.effective_end_at') }} as cache_grace_ends_at,
        device_cohorts.max_expiry_jitter_seconds,
        {{ dbt.hash(dbt.concat([
            "cast(payloads.event_id as " ~ dbt.type_string() ~ ")", "'|'",
            "payloads.segment_id", "'|'",
            "device_cohorts.device_cohort_id",
        ])) }} as jitter_hash

    from payloads
    inner join event_state
        on event_state.event_id = payloads.event_id
    cross join device_cohorts

),

jittered as (

    select
        *,
        -- the first seven hex digits of the hash as a number, in SQL every engine speaks
        mod(
            {% for digit in range(7) -%}
            ({{ dbt.position("substr(jitter_hash, " ~ (digit + 1) ~ ", 1)", "'0123456789abcdef'") }} - 1) * {{ 16 ** (6 - digit) }}
            {%- if not loop.last %} + {% endif %}
            {% endfor -%},
            max_expiry_jitter_seconds + 1
        ) as cache_expiry_jitter_seconds

    from planned

),

final as (

    select
        jittered.segment_id,
        jittered.event_id,
        jittered.device_cohort_id,
        jittered.payload_version,
        jittered.payload_title_count,
        jittered.effective_start_at,
        jittered.prefetch_opens_at,
        jittered.prefetch_closes_at,
        jittered.cache_expiry_jitter_seconds,
        {{ dbt.dateadd('second', 'jittered.cache_expiry_jitter_seconds', 'jittered.cache_grace_ends_at') }} as cache_expires_at,
        case
            when clock.evaluated_at < jittered.prefetch_opens_at then 'not_open'
            when clock.evaluated_at < jittered.prefetch_closes_at then 'open'
            else 'closed'
        end as prefetch_status

    from jittered
    cross join clock

)

select * from final
