-- The accepted rows of the landing table, typed. Rows failing a check
-- are in audit.rejected_rows instead (see base_landing__agreement_lines).
with

validated as (
    select * from {{ ref('base_landing__agreement_lines') }}
),

accepted as (
    select
        agreement_line_id,
        agreement_id,
        offering_id,
        quantity,
        unit_price,
        billing_cycle,
        effective_date,
        cancelled_date
    from validated
    where rejection_reason is null
)

select * from accepted
