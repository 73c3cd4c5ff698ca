-- The accepted rows of the landing table, typed. Rows failing a check
-- are in audit.rejected_rows instead (see base_landing__invoice_lines).
with

validated as (
    select * from {{ ref('base_landing__invoice_lines') }}
),

accepted as (
    select
        invoice_line_id,
        invoice_id,
        invoice_date,
        customer_id,
        offering_id,
        revenue_type,
        quantity,
        extended_price,
        extended_cost
    from validated
    where rejection_reason is null
)

select * from accepted
