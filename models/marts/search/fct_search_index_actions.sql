{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key='action_id',
        on_schema_change='fail',
        pre_hook="{% if is_incremental() %}delete from {{ this }} where {{ search_tick_end('tick_at') }} > {{ search_watermark(ref('stg_search__message_events')) }}{% endif %}",
    )
}}
{#-
    The Elasticsearch bulk actions of the feed: one row per (destination index, message, feed tick) that
    needs sending, with the exact NDJSON lines and their size, and the batch the action travels in.

    Per message and tick the winning event (last by event time, then event id) is compared with the best
    version the feed considered before (`prior_version`):
    - a newer create/edit is indexed (external version = its event id, so a stale or repeated send can never
      overwrite a newer document); an older one (a late delivery) is dropped;
    - a newer delete deletes the document, unless the message was never indexed;
    - a reindex request sends every live document again; a guild's first tick after its promotion moves
      every document: index into the dedicated index, delete from the shared one.

    Batches: per destination (cluster, index) and tick, at most `search_batch_max_documents` actions and
    strictly fewer than `search_batch_max_bytes` bytes of NDJSON. The greedy cut (close a batch when the
    next action would not fit) is a running sum that resets, which SQL can only do row by row (a recursive
    CTE, one iteration per row). Instead we cut on fixed byte offsets: with s_max the largest action of the
    group and B = max_bytes - s_max, actions whose start offset falls in [kB, (k+1)B) form byte bucket k,
    whose size is < B + s_max = max_bytes; buckets are then split every max_documents actions. Exact
    limits, window functions only, at the price of batches filled to B rather than max_bytes (actions are a
    few hundred bytes against a limit of 128 KiB and more, so under 1% apart). Batch ids hash the
    destination, tick and batch number: a retried batch is the same batch.

    Incremental: new feed ticks only. Everything a tick's rows depend on is ingested by the end of that
    tick and only closed ticks (ending at or before the watermark) are processed, so any sequence of
    increments gives the same rows as one full refresh. A run whose watermark is earlier than what is built
    (`as_of` in the past) first removes the ticks after it (pre-hook): the feed is rewound to that moment,
    again exactly as a full refresh at that moment would be.
-#}
with

candidates as (

    select * from {{ ref('int_search__document_candidates') }}
    where {{ search_tick_end('candidate_tick_at') }} <= {{ search_watermark(ref('stg_search__message_events')) }}

),

events as (

    select * from {{ ref('int_search__message_events_deduped') }}

),

guild_routing as (

    select * from {{ ref('int_search__guild_routing') }}

),

dm_routing as (

    select * from {{ ref('int_search__dm_channel_routing') }}

),

routed as (

    select
        candidates.*,
        events.channel_id,
        events.author_id,
        events.content,
        events.message_created_at,
        guild_routing.promoted_tick_at,
        coalesce(guild_routing.cell_name, dm_routing.cell_name) as cell_name,
        case
            when candidates.guild_id is null then dm_routing.cluster_name
            when guild_routing.promoted_tick_at <= candidates.candidate_tick_at
                then guild_routing.dedicated_cluster_name
            else guild_routing.shared_cluster_name
        end as cluster_name,
        case
            when candidates.guild_id is null then dm_routing.index_name
            when guild_routing.promoted_tick_at <= candidates.candidate_tick_at
                then guild_routing.dedicated_index_name
            else guild_routing.shared_index_name
        end as index_name,
        case
            when candidates.guild_id is null then cast(events.channel_id as varchar)
            when guild_routing.promoted_tick_at <= candidates.candidate_tick_at then null
            else cast(candidates.guild_id as varchar)
        end as routing_key,
        guild_routing.shared_cluster_name,
        guild_routing.shared_index_name
    from candidates
    inner join events
        on candidates.winning_event_id = events.event_id
    left join guild_routing
        on candidates.guild_id = guild_routing.guild_id
    left join dm_routing
        on events.channel_id = dm_routing.channel_id

),

sequenced as (

    select
        *,
        max(winning_event_id) over (
            partition by message_id
            order by candidate_tick_at
            rows between unbounded preceding and 1 preceding
        ) as prior_version,
        sum(case when candidate_tick_at >= promoted_tick_at then 1 else 0 end) over (
            partition by message_id
            order by candidate_tick_at
            rows between unbounded preceding and 1 preceding
        ) as prior_ticks_since_promotion
    from routed

),

with_prior_state as (

    select
        sequenced.*,
        coalesce(prior_event.event_type = 'delete', false) as is_prior_deleted
    from sequenced
    left join events as prior_event
        on sequenced.prior_version = prior_event.event_id

),

decided as (

    select
        *,
        promoted_tick_at is not null
            and candidate_tick_at >= promoted_tick_at
            and coalesce(prior_ticks_since_promotion, 0) = 0
            and prior_version is not null
            and not is_prior_deleted as is_moving
    from with_prior_state
    {% if is_incremental() %}
    where candidate_tick_at > (
        select coalesce(max(tick_at), cast('1970-01-01' as timestamp)) from {{ this }}
    )
    {% endif %}

),

index_actions as (

    select
        *,
        'index' as action,
        cluster_name as destination_cluster_name,
        index_name as destination_index_name,
        routing_key as destination_routing_key,
        case
            when is_moving then 'routing_change'
            when has_reindex_request then 'reindex_request'
            when is_winner_live then 'live'
            else 'backfill'
        end as action_reason
    from decided
    where winning_event_type <> 'delete'
        and (
            prior_version is null
            or winning_event_id > prior_version
            or has_reindex_request
            or is_moving
        )

),

delete_actions as (

    select
        *,
        'delete' as action,
        case when is_moving then shared_cluster_name else cluster_name end as destination_cluster_name,
        case when is_moving then shared_index_name else index_name end as destination_index_name,
        case when is_moving then cast(guild_id as varchar) else routing_key end as destination_routing_key,
        case when is_winner_live then 'live' else 'backfill' end as action_reason
    from decided
    where winning_event_type = 'delete'
        and prior_version is not null
        and not is_prior_deleted
        and winning_event_id > prior_version

),

move_deletes as (

    select
        *,
        'delete' as action,
        shared_cluster_name as destination_cluster_name,
        shared_index_name as destination_index_name,
        cast(guild_id as varchar) as destination_routing_key,
        'routing_change' as action_reason
    from decided
    where is_moving
        and winning_event_type <> 'delete'

),

actions as (

    select * from index_actions
    union all
    select * from delete_actions
    union all
    select * from move_deletes

),

with_lines as (

    select
        candidate_tick_at as tick_at,
        cell_name,
        destination_cluster_name as cluster_name,
        destination_index_name as index_name,
        cast(message_id as varchar) as document_id,
        destination_routing_key as routing_key,
        action,
        action_reason,
        winning_event_id as document_version,
        winning_event_type,
        winning_event_at,
        message_id,
        guild_id,
        channel_id,
        author_id,
        case when action = 'index' then content end as content,
        message_created_at,
        cast(
            case
                when destination_routing_key is null then json_object(
                    action,
                    json_object(
                        '_index', destination_index_name,
                        '_id', cast(message_id as varchar),
                        'version', winning_event_id,
                        'version_type', 'external_gte'
                    )
                )
                else json_object(
                    action,
                    json_object(
                        '_index', destination_index_name,
                        '_id', cast(message_id as varchar),
                        'routing', destination_routing_key,
                        'version', winning_event_id,
                        'version_type', 'external_gte'
                    )
                )
            end as varchar
        ) as action_line,
        case
            when action = 'index' then cast(
                json_object(
                    'message_id', cast(message_id as varchar),
                    'guild_id', cast(guild_id as varchar),
                    'channel_id', cast(channel_id as varchar),
                    'author_id', cast(author_id as varchar),
                    'content', content,
                    'created_at', strftime(message_created_at, '%Y-%m-%dT%H:%M:%S.%gZ'),
                    'edited_at', case
                        when winning_event_type = 'edit'
                            then strftime(winning_event_at, '%Y-%m-%dT%H:%M:%S.%gZ')
                    end
                ) as varchar
            )
        end as source_line
    from actions

),

sized as (

    select
        *,
        strlen(action_line) + 1 + coalesce(strlen(source_line) + 1, 0) as action_bytes
    from with_lines

),

offsets as (

    select
        *,
        sum(action_bytes) over (
            partition by cluster_name, index_name, tick_at
            order by message_id
            rows between unbounded preceding and current row
        ) - action_bytes as start_offset,
        greatest(
            {{ search_var('search_batch_max_bytes') }}
                - max(action_bytes) over (partition by cluster_name, index_name, tick_at),
            1
        ) as bucket_width
    from sized

),

bucketed as (

    select
        *,
        floor(start_offset / bucket_width) as byte_bucket
    from offsets

),

chunked as (

    select
        *,
        floor(
            (row_number() over (
                partition by cluster_name, index_name, tick_at, byte_bucket
                order by message_id
            ) - 1) / {{ search_var('search_batch_max_documents') }}
        ) as document_chunk
    from bucketed

),

numbered as (

    select
        *,
        dense_rank() over (
            partition by cluster_name, index_name, tick_at
            order by byte_bucket, document_chunk
        ) as batch_number
    from chunked

),

final as (

    select
        md5(
            cluster_name || '/' || index_name || '/' || document_id || '/' || cast(tick_at as varchar)
        ) as action_id,
        strftime(tick_at, '%Y%m%dT%H%M') || '-' || left(
            md5(cluster_name || '/' || index_name || '/' || cast(tick_at as varchar) || '/' || cast(batch_number as varchar)),
            12
        ) as batch_id,
        batch_number,
        row_number() over (
            partition by cluster_name, index_name, tick_at, batch_number
            order by message_id
        ) as position_in_batch,
        tick_at,
        cell_name,
        cluster_name,
        index_name,
        document_id,
        routing_key,
        action,
        action_reason,
        document_version,
        winning_event_type,
        winning_event_at,
        message_id,
        guild_id,
        channel_id,
        author_id,
        content,
        message_created_at,
        action_line,
        source_line,
        action_bytes
    from numbered

)

select * from final
