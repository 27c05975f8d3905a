{#-
    The search_index_batches of the feed: one row per bulk request, i.e. per (destination cluster, index,
    feed tick, batch number). A failing destination only fails its own batches, and a retried batch is the
    same batch (same id, same actions, same bytes). Sizes are the exact bytes of the NDJSON body.
-#}
with

actions as (

    select * from {{ ref('fct_search_index_actions') }}

),

final as (

    select
        batch_id,
        cell_name,
        cluster_name,
        index_name,
        tick_at,
        batch_number,
        count(*) as document_count,
        sum(case when action = 'index' then 1 else 0 end) as index_count,
        sum(case when action = 'delete' then 1 else 0 end) as delete_count,
        sum(action_bytes) as byte_count,
        min(message_id) as first_message_id,
        max(message_id) as last_message_id,
        {{ search_var('search_batch_max_documents') }} as max_documents,
        {{ search_var('search_batch_max_bytes') }} as max_bytes
    from actions
    group by
        batch_id,
        cell_name,
        cluster_name,
        index_name,
        tick_at,
        batch_number

)

select * from final
