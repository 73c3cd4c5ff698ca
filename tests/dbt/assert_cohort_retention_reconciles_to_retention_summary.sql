-- Every customer with MRR in a month belongs to exactly one cohort (its first
-- month with MRR), so the cohorts of segment `all` together hold each
-- month's whole MRR: Σ retained_mrr and Σ retained_customers of a calendar
-- month equal that month's ending_mrr and ending_customers in
-- retention_summary, exactly, in every reported month.
with

customer_cohort_retention as (
    select * from {{ ref('customer_cohort_retention') }}
    where segment_type = 'all'
),

retention_summary as (
    select * from {{ ref('retention_summary') }}
),

cohorts_summed_by_month as (
    select
        retention_month,
        sum(retained_mrr) as retained_mrr,
        sum(retained_customers) as retained_customers
    from customer_cohort_retention
    group by 1
)

select
    retention_summary.as_of_month,
    retention_summary.ending_mrr,
    cohorts_summed_by_month.retained_mrr,
    retention_summary.ending_customers,
    cohorts_summed_by_month.retained_customers
from retention_summary
full outer join cohorts_summed_by_month
    on retention_summary.as_of_month = cohorts_summed_by_month.retention_month
where
    coalesce(retention_summary.ending_mrr, -1)
    <> coalesce(cohorts_summed_by_month.retained_mrr, 0)
    or coalesce(retention_summary.ending_customers, -1)
    <> coalesce(cohorts_summed_by_month.retained_customers, 0)
