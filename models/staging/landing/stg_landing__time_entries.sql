with

source as (
    select * from {{ source('landing', 'time_entries') }}
),

renamed as (
    select
        cast(time_entry_id as varchar) as time_entry_id,
        cast(work_date as date) as work_date,
        cast(customer_id as varchar) as customer_id,
        cast(offering_id as varchar) as offering_id,
        cast(technician_id as varchar) as technician_id,
        cast(hours_actual as decimal(18, 4)) as hours_actual,
        cast(loaded_hourly_cost as decimal(18, 4)) as loaded_hourly_cost
    from source
)

select * from renamed
