{#-
    Prefix rules of the kernel filter. A rule matches a path equal to its prefix or below it, on whole path
    components (`/etc` matches `/etc/hosts`, not `/etcd/x`); `match_prefix` carries the trailing slash that
    makes a plain `starts_with` do exactly that. Among the rules matching a path, the longest prefix wins.
-#}
with

rules as (

    select * from {{ ref('ebpf_filter_prefix_rules') }}

),

normalized as (

    select
        case when trim(prefix) = '/' then '/' else rtrim(trim(prefix), '/') end as prefix,
        lower(trim(action)) as action,
        reason,
    from rules

),

final as (

    select
        prefix,
        case when prefix = '/' then '/' else prefix || '/' end as match_prefix,
        strlen(prefix) as prefix_length,
        action,
        reason,
    from normalized

)

select * from final
