-- The accepted rows of the landing table, typed. Rows failing a check
-- are in audit.rejected_rows instead (see base_landing__customers).
with

validated as (
    select * from {{ ref('base_landing__customers') }}
),

accepted as (
    select
        customer_id,
        customer_name,
        industry,
        employee_count,
        region,
        account_manager,
        created_date,
        tcp_override
    from validated
    where rejection_reason is null
)

select * from accepted
