with

source as (
    select * from {{ source('landing', 'agreement_lines') }}
),

renamed as (
    select
        cast(agreement_line_id as varchar) as agreement_line_id,
        cast(agreement_id as varchar) as agreement_id,
        cast(offering_id as varchar) as offering_id,
        cast(quantity as decimal(18, 4)) as quantity,
        cast(unit_price as decimal(18, 4)) as unit_price,
        cast(billing_cycle as varchar) as billing_cycle,
        cast(effective_date as date) as effective_date,
        cast(cancelled_date as date) as cancelled_date
    from source
)

select * from renamed
