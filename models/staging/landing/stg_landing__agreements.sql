-- The accepted rows of the landing table, typed. Rows failing a check
-- are in audit.rejected_rows instead (see base_landing__agreements).
with

validated as (
    select * from {{ ref('base_landing__agreements') }}
),

accepted as (
    select
        agreement_id,
        customer_id,
        agreement_type,
        start_date,
        end_date,
        cancelled_date
    from validated
    where rejection_reason is null
)

select * from accepted
