{#-
    The device prefetch log, each prefetch once (its first delivery), loaded as it arrives. Incremental on
    arrival time with a lookback, skipping prefetches already loaded: re-shipped rows add nothing, and any
    split of the log into runs gives the same rows as one full refresh.
-#}
{{
    config(
        materialized='incremental',
        unique_key='prefetch_id',
        incremental_strategy='delete+insert',
        on_schema_change='fail',
    )
}}
{%- set lookback_hours = var('live_events_lookback_hours', 6) -%}

with

device_prefetches as (

    select * from {{ ref('stg_live_events__device_prefetches') }}

),

arrived as (

    select device_prefetches.*
    from device_prefetches
    {% if is_incremental() %}
    left join {{ this }} as loaded
        on loaded.prefetch_id = device_prefetches.prefetch_id
    where
        loaded.prefetch_id is null
        and device_prefetches.received_at > (
            select {{ dbt.dateadd('hour', -lookback_hours, 'coalesce(max(received_at), ' ~ "cast('1970-01-01' as timestamp)" ~ ')') }}
            from {{ this }}
        )
    {% endif %}

),

deliveries_ranked as (

    select
        *,
        row_number() over (partition by prefetch_id order by received_at) as delivery_number

    from arrived

),

final as (

    select
        prefetch_id,
        device_id,
        event_id,
        segment_id,
        payload_version,
        prefetched_at,
        received_at

    from deliveries_ranked
    where delivery_number = 1

)

select * from final
