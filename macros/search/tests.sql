{#- Generic data tests of the search-indexing domain. Each returns the offending rows. -#}

{#- A timestamp column is never earlier than another one of the same row (deliveries follow events). -#}
{% test search_not_before(model, column_name, earlier_column) %}
select *
from {{ model }}
where {{ column_name }} < {{ earlier_column }}
{% endtest %}

{#- A column never exceeds one of the search domain's settings (see search_var). -#}
{% test search_at_most(model, column_name, setting) %}
select *
from {{ model }}
where {{ column_name }} > {{ search_var(setting) }}
{% endtest %}

{#- No two rows share the values of these columns. -#}
{% test search_unique_combination(model, columns) %}
select
    {{ columns | join(', ') }},
    count(*) as rows_with_these_values
from {{ model }}
group by {{ columns | join(', ') }}
having count(*) > 1
{% endtest %}

{#-
    The versions sent for one document never go back in time: actions of a message, in feed-tick order,
    carry non-decreasing versions (a late, older event never overwrites a newer one).
-#}
{% test search_versions_never_go_back(model, column_name) %}
with ordered as (
    select
        message_id,
        tick_at,
        {{ column_name }} as version,
        max({{ column_name }}) over (
            partition by message_id
            order by tick_at
            rows between unbounded preceding and 1 preceding
        ) as highest_earlier_version
    from {{ model }}
)
select *
from ordered
where version < highest_earlier_version
{% endtest %}

{#- A delete goes only to an index that received the document in an earlier tick. -#}
{% test search_deletes_follow_index(model) %}
select deletes.*
from {{ model }} as deletes
where deletes.action = 'delete'
    and not exists (
        select 1
        from {{ model }} as indexed
        where indexed.action = 'index'
            and indexed.message_id = deletes.message_id
            and indexed.cluster_name = deletes.cluster_name
            and indexed.index_name = deletes.index_name
            and indexed.tick_at < deletes.tick_at
    )
{% endtest %}

{#- Guilds past the document cap, and only they, have a dedicated index with the big-guild shard count. -#}
{% test search_big_guilds_have_dedicated_index(model) %}
select *
from {{ model }}
where routing_scope = 'guild'
    and (
        has_dedicated_index <> (document_count > {{ search_var('search_big_guild_document_cap') }})
        or (has_dedicated_index and primary_shards <> {{ search_var('search_big_guild_primary_shards') }})
        or (has_dedicated_index and index_name <> 'guild-' || cast(guild_id as varchar) || '-messages')
    )
{% endtest %}

{#- Actions reach a guild's dedicated index only from the tick of its promotion on, and only index/delete
    actions of that guild. -#}
{% test search_dedicated_index_only_after_promotion(model, routing_model) %}
select actions.*
from {{ model }} as actions
inner join {{ routing_model }} as routing
    on actions.index_name = routing.dedicated_index_name
where actions.guild_id is distinct from routing.guild_id
    or routing.promoted_tick_at is null
    or actions.tick_at < routing.promoted_tick_at
{% endtest %}

{#- The batches account for every action exactly once: per batch, the documents and bytes agree. -#}
{% test search_batches_cover_actions(model, actions_model) %}
with per_batch as (
    select
        batch_id,
        count(*) as document_count,
        sum(action_bytes) as byte_count
    from {{ actions_model }}
    group by batch_id
)
select *
from {{ model }} as batches
full outer join per_batch
    on batches.batch_id = per_batch.batch_id
where batches.batch_id is null
    or per_batch.batch_id is null
    or batches.document_count <> per_batch.document_count
    or batches.byte_count <> per_batch.byte_count
{% endtest %}

{#-
    Last event wins: every action sends the newest event of its message (by event time, then event id) among
    the events the feed had considered by the end of the action's tick - those ingested while the guild was
    active (searched within the window; DMs always), or ingested before one of the guild's triggers up to
    that tick. (An event that arrives while its guild is idle waits for the guild's next activation.) An
    index action never sends a deleted message. Stated from the activity and trigger models directly, not
    from the candidates the feed derives them with.
-#}
{% test search_action_is_latest_event(model, events_model, activity_model, triggers_model) %}
select actions.*
from {{ model }} as actions
where (actions.action = 'index' and actions.winning_event_type = 'delete')
    or exists (
        select 1
        from {{ events_model }} as events
        where events.message_id = actions.message_id
            and events.tick_at <= actions.tick_at
            and (
                events.event_at > actions.winning_event_at
                or (events.event_at = actions.winning_event_at and events.event_id > actions.document_version)
            )
            and (
                events.guild_id is null
                or exists (
                    select 1
                    from {{ activity_model }} as activity
                    where activity.guild_id = events.guild_id
                        and activity.activity_at <= events.ingested_at
                        and activity.activity_at > events.ingested_at - {{ search_active_window() }}
                )
                or exists (
                    select 1
                    from {{ triggers_model }} as triggers
                    where triggers.guild_id = events.guild_id
                        and triggers.tick_at >= events.tick_at
                        and triggers.tick_at <= actions.tick_at
                )
            )
    )
{% endtest %}
