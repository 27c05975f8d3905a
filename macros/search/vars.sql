{#-
    The search domain's settings, each a dbt var with a default, read in one place:
    `{{ search_var('search_batch_max_documents') }}`. Override with --vars, e.g.
    `overclock build --vars '{search_big_guild_document_cap: 1000}'`.
-#}
{% macro search_var(name) -%}
    {%- set defaults = {
        'search_tick_minutes': 60,
        'search_active_window_days': 14,
        'search_big_guild_document_cap': 3000,
        'search_big_guild_primary_shards': 6,
        'search_shared_index_primary_shards': 2,
        'search_dm_index_primary_shards': 2,
        'search_shared_indices_per_cluster': 4,
        'search_batch_max_documents': 500,
        'search_batch_max_bytes': 131072,
    } -%}
    {%- if name not in defaults -%}
        {{ exceptions.raise_compiler_error("unknown search var '" ~ name ~ "' (known: " ~ (defaults.keys() | sort | join(', ')) ~ ")") }}
    {%- endif -%}
    {{- return(var(name, defaults[name])) -}}
{%- endmacro %}

{#- The feed tick (micro-batch) a timestamp falls in: floor to search_tick_minutes since the Unix epoch. -#}
{% macro search_tick(column) -%}
    {{ return(adapter.dispatch('search_tick')(column)) }}
{%- endmacro %}

{% macro default__search_tick(column) -%}
    time_bucket(interval '{{ search_var("search_tick_minutes") }} minutes', {{ column }}, timestamp '1970-01-01')
{%- endmacro %}

{#- The end of the tick that starts at `column` (exclusive). -#}
{% macro search_tick_end(column) -%}
    ({{ column }} + interval '{{ search_var("search_tick_minutes") }} minutes')
{%- endmacro %}

{#- The activity window: a guild is active at t if it was searched in (t - window, t]. -#}
{% macro search_active_window() -%}
    interval '{{ search_var("search_active_window_days") }} days'
{%- endmacro %}

{#-
    A stable, engine-independent 48-bit hash of a value (md5-based), for routing decisions. Each decision
    (cell, cluster, index) uses its own salt, so that the choices are independent of each other.
-#}
{% macro search_stable_hash(expression, salt) -%}
    {{ return(adapter.dispatch('search_stable_hash')(expression, salt)) }}
{%- endmacro %}

{% macro default__search_stable_hash(expression, salt) -%}
    cast(('0x' || left(md5('{{ salt }}:' || cast({{ expression }} as varchar)), 12)) as bigint)
{%- endmacro %}

{% macro postgres__search_stable_hash(expression, salt) -%}
    ('x' || left(md5('{{ salt }}:' || cast({{ expression }} as varchar)), 12))::bit(48)::bigint
{%- endmacro %}

{#-
    The feed's watermark: ticks that end at or before it are closed and get processed. With `as_of` it is
    that moment (the sources are cut there too); without, the latest delivery seen.
-#}
{% macro search_watermark(events_relation) -%}
    {%- if var('as_of', none) -%}
        cast('{{ var("as_of") }}' as timestamp)
    {%- else -%}
        (select max(ingested_at) from {{ events_relation }})
    {%- endif -%}
{%- endmacro %}
