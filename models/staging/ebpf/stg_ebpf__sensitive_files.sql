{#-
    What the audit marts call sensitive: exact paths, basenames, or everything below a prefix (on whole path
    components). `match_specificity` orders the kinds when one event matches several patterns.
-#}
with

patterns as (

    select * from {{ ref('ebpf_sensitive_files') }}

),

normalized as (

    select
        lower(trim(match_kind)) as match_kind,
        case when lower(trim(match_kind)) = 'prefix' then rtrim(trim(pattern), '/') else trim(pattern) end
            as pattern,
        sensitive_category,
    from patterns

),

final as (

    select
        match_kind,
        pattern,
        case when match_kind = 'prefix' then pattern || '/' end as match_prefix,
        case match_kind when 'path' then 1 when 'basename' then 2 else 3 end as match_specificity,
        sensitive_category,
    from normalized

)

select * from final
