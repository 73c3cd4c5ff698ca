with

source as (
    select * from {{ source('landing', 'customers') }}
),

renamed as (
    select
        cast(customer_id as varchar) as customer_id,
        cast(customer_name as varchar) as customer_name,
        cast(industry as varchar) as industry,
        cast(employee_count as integer) as employee_count,
        cast(region as varchar) as region,
        cast(account_manager as varchar) as account_manager,
        cast(created_date as date) as created_date,
        cast(tcp_override as boolean) as tcp_override
    from source
)

select * from renamed
