-- A table, not a view: the MRR marts, the churn chain and their tests read it
-- (as a view, each of them expanded every agreement line to months again).
{{ config(materialized='table') }}

-- Customer MRR per month: the sum of the line MRR of every line in force on
-- the month's last day, over all of the customer's concurrent agreements.
-- Only months with MRR > 0 are kept; a month without is a month without MRR.
with

agreement_line_months as (
    select * from {{ ref('int_agreement_lines_expanded_to_months') }}
),

customer_months_summed as (
    select
        month_start,
        customer_id,
        cast(sum(line_mrr) as decimal(38, 6)) as mrr,
        count(*) as agreement_lines_in_force,
        count(distinct agreement_id) as agreements_in_force
    from agreement_line_months
    group by 1, 2
),

customer_months_with_mrr as (
    select * from customer_months_summed
    where mrr > 0
)

select * from customer_months_with_mrr
