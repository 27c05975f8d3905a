{#-
    What the in-kernel filter decides for each file event, with the rules as data:
    1. approvers first: an event whose type or file basename is an approver is sent ('approved');
    2. otherwise the longest matching prefix rule decides, as an LPM trie would: 'deny' drops the event
       ('discarded'), 'allow' sends it ('passed'); with no matching rule, `ebpf_default_action` decides.
    Kept = approved + passed. A view: decisions always follow the current rules.
-#}
{{ config(materialized='view') }}

with

events as (

    select * from {{ ref('int_ebpf__file_events_deduplicated') }}

),

events_for_matching as (

    -- A rule's match_prefix ends with '/', so path || '/' makes starts_with match whole components only.
    select
        *,
        file_path || '/' as match_path,
    from events

),

prefix_rules as (

    -- Longest first, so the first rule of the list that matches a path is the longest matching prefix.
    select
        list(
            struct_pack(prefix := prefix, match_prefix := match_prefix, action := action)
            order by prefix_length desc, prefix
        ) as rules
    from {{ ref('stg_ebpf__filter_prefix_rules') }}

),

approvers as (

    select
        coalesce(list(approver_value) filter (where approver_kind = 'basename'), []) as basenames,
        coalesce(list(approver_value) filter (where approver_kind = 'event_type'), []) as event_types,
    from {{ ref('stg_ebpf__filter_approvers') }}

),

matched as (

    select
        events.* exclude (match_path),
        list_filter(prefix_rules.rules, lambda rule: starts_with(events.match_path, rule.match_prefix))[1]
            as matched_rule,
        case
            when list_contains(approvers.event_types, events.event_type) then 'event_type'
            when list_contains(approvers.basenames, events.file_basename) then 'basename'
        end as approved_by,
    from events_for_matching as events
    cross join prefix_rules
    cross join approvers

),

final as (

    select
        * exclude (matched_rule),
        matched_rule.prefix as matched_prefix,
        coalesce(matched_rule.action, '{{ var('ebpf_default_action', 'allow') }}') as prefix_action,
        case
            when approved_by is not null then 'approved'
            when coalesce(matched_rule.action, '{{ var('ebpf_default_action', 'allow') }}') = 'deny' then 'discarded'
            else 'passed'
        end as filter_decision,
        approved_by is not null
            or coalesce(matched_rule.action, '{{ var('ebpf_default_action', 'allow') }}') <> 'deny' as is_kept,
    from matched

)

select * from final
