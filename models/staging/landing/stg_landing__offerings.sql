with

source as (
    select * from {{ source('landing', 'offerings') }}
),

renamed as (
    select
        cast(offering_id as varchar) as offering_id,
        cast(offering_name as varchar) as offering_name,
        cast(offering_family as varchar) as offering_family,
        cast(revenue_type as varchar) as revenue_type,
        cast(lifecycle as varchar) as lifecycle,
        cast(is_full_package_component as boolean)
            as is_full_package_component,
        cast(list_price as decimal(18, 4)) as list_price
    from source
)

select * from renamed
