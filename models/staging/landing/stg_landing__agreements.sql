with

source as (
    select * from {{ source('landing', 'agreements') }}
),

renamed as (
    select
        cast(agreement_id as varchar) as agreement_id,
        cast(customer_id as varchar) as customer_id,
        cast(agreement_type as varchar) as agreement_type,
        cast(start_date as date) as start_date,
        cast(end_date as date) as end_date,
        cast(cancelled_date as date) as cancelled_date
    from source
)

select * from renamed
