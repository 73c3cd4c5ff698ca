-- Each month's MRR in mrr_movements equals the line MRR of every agreement
-- line in force on the month's last day, and each customer's MRR equals
-- its own lines' sum: nothing is lost or counted twice between the agreement
-- lines and the mart. (A customer whose lines sum to less than 0 would
-- show up here: negative MRR is not supported.) On a run that tests only its
-- own months, those months (macro in_run_months).
with

agreement_line_months as (
    select * from {{ ref('int_agreement_lines_expanded_to_months') }}
    where {{ in_run_months('month_start') }}
),

mrr_movements as (
    select * from {{ ref('mrr_movements') }}
    where {{ in_run_months('as_of_month') }}
),

lines_by_customer_month as (
    select
        month_start,
        customer_id,
        sum(line_mrr) as line_mrr
    from agreement_line_months
    group by 1, 2
    having sum(line_mrr) <> 0
),

movements_with_mrr as (
    select
        as_of_month as month_start,
        customer_id,
        mrr
    from mrr_movements
    where mrr <> 0
)

select
    coalesce(
        lines_by_customer_month.month_start, movements_with_mrr.month_start
    ) as month_start,
    coalesce(
        lines_by_customer_month.customer_id, movements_with_mrr.customer_id
    ) as customer_id,
    lines_by_customer_month.line_mrr,
    movements_with_mrr.mrr
from lines_by_customer_month
full outer join movements_with_mrr
    on
        lines_by_customer_month.month_start = movements_with_mrr.month_start
        and lines_by_customer_month.customer_id = movements_with_mrr.customer_id
where
    lines_by_customer_month.line_mrr is distinct from movements_with_mrr.mrr
