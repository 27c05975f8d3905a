{#-
    DM channels have no guild: their messages route by channel. A channel's cell is chosen by a stable hash
    of its id, then one of the cell's DM clusters and one of its DM indices; documents carry the channel id
    as routing key, so one conversation sits on one shard.
-#}
with

channels as (

    select * from {{ ref('stg_search__channels') }}

),

clusters as (

    select * from {{ ref('stg_search__index_clusters') }}

),

dm_cells as (

    select
        cell_name,
        row_number() over (order by cell_name) - 1 as cell_number,
        count(*) over () as cell_count
    from (select distinct cell_name from clusters where serves = 'dms') as cells_with_dm_clusters

),

dm_clusters as (

    select
        cell_name,
        cluster_name,
        row_number() over (partition by cell_name order by cluster_name) - 1 as cluster_number,
        count(*) over (partition by cell_name) as clusters_in_cell
    from clusters
    where serves = 'dms'

),

hashed_channels as (

    select
        channel_id,
        {{ search_stable_hash('channel_id', 'cell') }} as cell_hash,
        {{ search_stable_hash('channel_id', 'cluster') }} as cluster_hash,
        {{ search_stable_hash('channel_id', 'index') }} as index_hash
    from channels
    where is_dm

),

final as (

    select
        hashed_channels.channel_id,
        dm_cells.cell_name,
        dm_clusters.cluster_name,
        'dm-messages-' || dm_clusters.cluster_name || '-'
            || lpad(cast(hashed_channels.index_hash % {{ search_var('search_shared_indices_per_cluster') }} as varchar), 2, '0')
            as index_name,
        {{ search_var('search_dm_index_primary_shards') }} as primary_shards
    from hashed_channels
    inner join dm_cells
        on hashed_channels.cell_hash % dm_cells.cell_count = dm_cells.cell_number
    inner join dm_clusters
        on dm_cells.cell_name = dm_clusters.cell_name
        and hashed_channels.cluster_hash % dm_clusters.clusters_in_cell = dm_clusters.cluster_number

)

select * from final
