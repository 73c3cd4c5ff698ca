-- The accepted rows of the landing table, typed. Rows failing a check
-- are in audit.rejected_rows instead (see base_landing__time_entries).
with

validated as (
    select * from {{ ref('base_landing__time_entries') }}
),

accepted as (
    select
        time_entry_id,
        work_date,
        customer_id,
        offering_id,
        technician_id,
        hours_actual,
        loaded_hourly_cost
    from validated
    where rejection_reason is null
)

select * from accepted
