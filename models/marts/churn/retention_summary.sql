-- The MRR bridge and retention rates per month: starting MRR plus each kind
-- of movement gives ending MRR, and the one-month and trailing-twelve-month
-- gross and net revenue retention.
with

months as (
    select * from {{ ref('int_mrr_months_spanned') }}
    where {{ in_partition('month_start') }}
),

mrr_movements as (
    select * from {{ ref('mrr_movements') }}
),

month_spine as (
    select * from {{ ref('month_spine') }}
),

movements_summed as (
    select
        as_of_month,
        sum(previous_mrr) as starting_mrr,
        sum(case when movement = 'new' then mrr else 0 end) as new_mrr,
        sum(case when movement = 'expansion' then mrr_change else 0 end)
            as expansion_mrr,
        sum(case when movement = 'contraction' then -mrr_change else 0 end)
            as contraction_mrr,
        sum(case when movement = 'churn' then previous_mrr else 0 end)
            as churned_mrr,
        sum(case when movement = 'reactivation' then mrr else 0 end)
            as reactivation_mrr,
        sum(mrr) as ending_mrr,
        count(case when previous_mrr > 0 then 1 end) as starting_customers,
        count(case when movement = 'new' then 1 end) as new_customers,
        count(case when movement = 'expansion' then 1 end)
            as expansion_customers,
        count(case when movement = 'contraction' then 1 end)
            as contraction_customers,
        count(case when movement = 'unchanged' then 1 end)
            as unchanged_customers,
        count(case when movement = 'churn' then 1 end) as churned_customers,
        count(case when movement = 'reactivation' then 1 end)
            as reactivated_customers,
        count(case when mrr > 0 then 1 end) as ending_customers
    from mrr_movements
    group by 1
),

-- The cohort of customers with MRR twelve months before each month, and
-- what that cohort brings in now (0 for those who have left since).
cohort_12m_compared as (
    select
        cast({{ dbt.dateadd('month', 12, 'cohort.as_of_month') }} as date)
            as month_start,
        count(*) as cohort_12m_customers,
        sum(cohort.mrr) as cohort_12m_starting_mrr,
        sum(coalesce(now_.mrr, 0)) as cohort_12m_mrr,
        sum(least(coalesce(now_.mrr, 0), cohort.mrr))
            as cohort_12m_capped_mrr
    from mrr_movements as cohort
    left join mrr_movements as now_
        on
            cohort.customer_id = now_.customer_id
            and now_.as_of_month = cast(
                {{ dbt.dateadd('month', 12, 'cohort.as_of_month') }} as date
            )
    where cohort.mrr > 0
    group by 1
),

retention_by_month as (
    select
        months.month_start as as_of_month,
        month_spine.month_start is not null as is_in_invoice_history,
        cast(coalesce(movements_summed.starting_mrr, 0) as decimal(38, 6))
            as starting_mrr,
        cast(coalesce(movements_summed.new_mrr, 0) as decimal(38, 6))
            as new_mrr,
        cast(coalesce(movements_summed.expansion_mrr, 0) as decimal(38, 6))
            as expansion_mrr,
        cast(coalesce(movements_summed.contraction_mrr, 0) as decimal(38, 6))
            as contraction_mrr,
        cast(coalesce(movements_summed.churned_mrr, 0) as decimal(38, 6))
            as churned_mrr,
        cast(coalesce(movements_summed.reactivation_mrr, 0) as decimal(38, 6))
            as reactivation_mrr,
        cast(coalesce(movements_summed.ending_mrr, 0) as decimal(38, 6))
            as ending_mrr,
        coalesce(movements_summed.starting_customers, 0)
            as starting_customers,
        coalesce(movements_summed.new_customers, 0) as new_customers,
        coalesce(movements_summed.expansion_customers, 0)
            as expansion_customers,
        coalesce(movements_summed.contraction_customers, 0)
            as contraction_customers,
        coalesce(movements_summed.unchanged_customers, 0)
            as unchanged_customers,
        coalesce(movements_summed.churned_customers, 0) as churned_customers,
        coalesce(movements_summed.reactivated_customers, 0)
            as reactivated_customers,
        coalesce(movements_summed.ending_customers, 0) as ending_customers,
        coalesce(cohort_12m_compared.cohort_12m_customers, 0)
            as cohort_12m_customers,
        cast(
            coalesce(cohort_12m_compared.cohort_12m_starting_mrr, 0)
            as decimal(38, 6)
        ) as cohort_12m_starting_mrr,
        cast(
            coalesce(cohort_12m_compared.cohort_12m_mrr, 0) as decimal(38, 6)
        ) as cohort_12m_mrr,
        cast(
            coalesce(cohort_12m_compared.cohort_12m_capped_mrr, 0)
            as decimal(38, 6)
        ) as cohort_12m_capped_mrr
    from months
    left join movements_summed
        on months.month_start = movements_summed.as_of_month
    left join cohort_12m_compared
        on months.month_start = cohort_12m_compared.month_start
    left join month_spine
        on months.month_start = month_spine.month_start
),

retention_rates as (
    select
        *,
        cast(
            starting_mrr
            - contraction_mrr
            - churned_mrr as double
        ) / nullif(cast(starting_mrr as double), 0) as grr,
        cast(
            starting_mrr
            + expansion_mrr
            - contraction_mrr
            - churned_mrr as double
        ) / nullif(cast(starting_mrr as double), 0) as nrr,
        cast(churned_customers as double)
        / nullif(starting_customers, 0) as logo_churn_rate,
        -- MRR gained per MRR lost (reactivation_mrr is 0 when var
        -- reactivation_counts_as_new puts returns into new_mrr).
        cast(new_mrr + expansion_mrr + reactivation_mrr as double)
        / nullif(cast(contraction_mrr + churned_mrr as double), 0)
            as quick_ratio,
        cast(contraction_mrr + churned_mrr as double)
        / nullif(cast(starting_mrr as double), 0) as gross_mrr_churn_rate,
        cast(
            churned_mrr
            + contraction_mrr
            - expansion_mrr
            - reactivation_mrr as double
        ) / nullif(cast(starting_mrr as double), 0) as net_mrr_churn_rate,
        cast(cohort_12m_mrr as double)
        / nullif(cast(cohort_12m_starting_mrr as double), 0)
            as nrr_12m,
        cast(cohort_12m_capped_mrr as double)
        / nullif(cast(cohort_12m_starting_mrr as double), 0)
            as grr_12m
    from retention_by_month
)

select * from retention_rates
