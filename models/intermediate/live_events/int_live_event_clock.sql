{#-
    The one moment every live-event model is evaluated at, so that state, ranking, triggers and coverage agree.
    A replay or a test pins it with the `as_of` var; otherwise it is the watermark of the device and schedule
    logs (the latest arrival), which in production trails the wall clock by seconds and on the static demo
    data is the demo's "now".
-#}
{%- set viewing_window_days = var('live_events_viewing_window_days', 28) -%}
{%- set horizon_hours = var('live_events_horizon_hours', 48) -%}

with

schedule_changes as (

    select received_at from {{ ref('stg_live_events__schedule_changes') }}

),

device_prefetches as (

    select received_at from {{ ref('stg_live_events__device_prefetches') }}

),

broadcast_acks as (

    select received_at from {{ ref('stg_live_events__broadcast_acks') }}

),

arrivals as (

    select received_at from schedule_changes
    union all
    select received_at from device_prefetches
    union all
    select received_at from broadcast_acks

),

clock as (

    select
        {% if var('as_of', none) -%}
        cast('{{ var("as_of") }}' as timestamp) as evaluated_at,
        {%- else -%}
        max(received_at) as evaluated_at,
        {%- endif %}
        max(received_at) as watermark_at

    from arrivals

),

final as (

    select
        evaluated_at,
        watermark_at,
        {{ dbt.dateadd('day', -viewing_window_days, dbt.date_trunc('day', 'evaluated_at')) }} as viewing_window_start_at,
        {{ dbt.date_trunc('day', 'evaluated_at') }} as viewing_window_end_at,
        {{ dbt.dateadd('hour', horizon_hours, 'evaluated_at') }} as recommendation_horizon_end_at

    from clock

)

select * from final
