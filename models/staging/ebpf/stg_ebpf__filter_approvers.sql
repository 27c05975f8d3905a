{#- Approvers of the kernel filter: an event whose basename or type is listed here is always sent. -#}
with

approvers as (

    select * from {{ ref('ebpf_filter_approvers') }}

),

final as (

    select
        lower(trim(approver_kind)) as approver_kind,
        trim(approver_value) as approver_value,
        reason,
    from approvers

)

select * from final
