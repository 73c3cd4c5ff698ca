with

source as (
    select * from {{ source('landing', 'invoice_lines') }}
),

renamed as (
    select
        cast(invoice_line_id as varchar) as invoice_line_id,
        cast(invoice_id as varchar) as invoice_id,
        cast(invoice_date as date) as invoice_date,
        cast(customer_id as varchar) as customer_id,
        cast(offering_id as varchar) as offering_id,
        cast(revenue_type as varchar) as revenue_type,
        cast(quantity as decimal(18, 4)) as quantity,
        cast(extended_price as decimal(18, 4)) as extended_price,
        cast(extended_cost as decimal(18, 4)) as extended_cost
    from source
)

select * from renamed
