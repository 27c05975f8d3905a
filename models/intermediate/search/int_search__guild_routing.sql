{#-
    Where each guild's messages go. Every guild has a home cell and a shared index on one of the cell's
    guild clusters (documents routed by guild id, so a guild's messages sit on one shard). Once a guild's
    document count passes `search_big_guild_document_cap` it is promoted to a dedicated index with
    `search_big_guild_primary_shards` primary shards on another cluster of its cell (Lucene caps an index
    at about 2 billion documents; the biggest guilds outgrow a shared shard). The promotion time is when the
    (cap + 1)-th message of the guild reached the pipeline, so the routing of any past feed tick is fixed.
-#}
with

guilds as (

    select * from {{ ref('stg_search__guilds') }}

),

clusters as (

    select * from {{ ref('stg_search__index_clusters') }}

),

events as (

    select * from {{ ref('int_search__message_events_deduped') }}

),

cells as (

    select
        cell_name,
        row_number() over (order by cell_name) - 1 as cell_number,
        count(*) over () as cell_count
    from (select distinct cell_name from clusters where serves = 'guilds') as guild_cells

),

guild_clusters as (

    select
        cell_name,
        cluster_name,
        row_number() over (partition by cell_name order by cluster_name) - 1 as cluster_number,
        count(*) over (partition by cell_name) as clusters_in_cell
    from clusters
    where serves = 'guilds'

),

hashed_guilds as (

    select
        guild_id,
        {{ search_stable_hash('guild_id', 'cell') }} as cell_hash,
        {{ search_stable_hash('guild_id', 'cluster') }} as cluster_hash,
        {{ search_stable_hash('guild_id', 'index') }} as index_hash
    from guilds

),

home_cells as (

    select
        hashed_guilds.guild_id,
        hashed_guilds.cluster_hash,
        hashed_guilds.index_hash,
        cells.cell_name
    from hashed_guilds
    inner join cells
        on hashed_guilds.cell_hash % cells.cell_count = cells.cell_number

),

placed as (

    select
        home_cells.guild_id,
        home_cells.cell_name,
        shared_cluster.cluster_name as shared_cluster_name,
        'guild-messages-' || shared_cluster.cluster_name || '-'
            || lpad(cast(home_cells.index_hash % {{ search_var('search_shared_indices_per_cluster') }} as varchar), 2, '0')
            as shared_index_name,
        dedicated_cluster.cluster_name as dedicated_cluster_name,
        'guild-' || cast(home_cells.guild_id as varchar) || '-messages' as dedicated_index_name
    from home_cells
    inner join guild_clusters as shared_cluster
        on home_cells.cell_name = shared_cluster.cell_name
        and home_cells.cluster_hash % shared_cluster.clusters_in_cell = shared_cluster.cluster_number
    inner join guild_clusters as dedicated_cluster
        on home_cells.cell_name = dedicated_cluster.cell_name
        and (home_cells.cluster_hash + 1) % dedicated_cluster.clusters_in_cell
            = dedicated_cluster.cluster_number

),

guild_messages as (

    select
        guild_id,
        message_id,
        min(ingested_at) as first_ingested_at
    from events
    where guild_id is not null
    group by guild_id, message_id

),

numbered_messages as (

    select
        *,
        row_number() over (
            partition by guild_id
            order by first_ingested_at, message_id
        ) as message_number
    from guild_messages

),

document_counts as (

    select
        guild_id,
        count(*) as document_count,
        min(case when message_number = {{ search_var('search_big_guild_document_cap') }} + 1 then first_ingested_at end)
            as promoted_at
    from numbered_messages
    group by guild_id

),

final as (

    select
        placed.guild_id,
        placed.cell_name,
        placed.shared_cluster_name,
        placed.shared_index_name,
        {{ search_var('search_shared_index_primary_shards') }} as shared_primary_shards,
        placed.dedicated_cluster_name,
        placed.dedicated_index_name,
        {{ search_var('search_big_guild_primary_shards') }} as dedicated_primary_shards,
        coalesce(document_counts.document_count, 0) as document_count,
        document_counts.promoted_at,
        {{ search_tick('document_counts.promoted_at') }} as promoted_tick_at,
        document_counts.promoted_at is not null as is_big
    from placed
    left join document_counts
        on placed.guild_id = document_counts.guild_id

)

select * from final
