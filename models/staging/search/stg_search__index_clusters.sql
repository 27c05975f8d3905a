with

source as (

    select * from {{ source('search', 'index_clusters') }}

),

renamed as (

    select
        cast(cluster_name as varchar) as cluster_name,
        cast(cell_name as varchar) as cell_name,
        cast(serves as varchar) as serves
    from source

)

select * from renamed
