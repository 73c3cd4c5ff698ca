-- Cohort retention: customers grouped by the month they first had MRR (the
-- month of their `new` movement), and how many of them, with how much MRR,
-- are still there each month after, for every cohort, also split by the
-- class, TCP fit and agreement profile they started with.
-- Not a monthly snapshot: every cohort's whole history, rebuilt on every run
-- (each new month adds a month to every cohort).
{{ config(
    materialized='table',
    partition_by=('cohort_month' if target.type == 'spark' else ''),
) }}
with

mrr_movements as (
    select * from {{ ref('mrr_movements') }}
),

months as (
    select * from {{ ref('int_mrr_months_spanned') }}
),

customer_classification as (
    select * from {{ ref('customer_classification') }}
),

customer_cross_sell as (
    select * from {{ ref('customer_cross_sell') }}
),

customers_profiled as (
    select * from {{ ref('int_customers_profiled') }}
),

cohort_members as (
    select
        customer_id,
        as_of_month as cohort_month,
        mrr as starting_mrr
    from mrr_movements
    where movement = 'new'
),

-- One row per customer per segment type; each segment type splits every
-- cohort into segments that add up to the whole cohort.
cohort_members_segmented as (
    select
        customer_id,
        cohort_month,
        starting_mrr,
        'all' as segment_type,
        'all' as segment
    from cohort_members

    union all

    select
        cohort_members.customer_id,
        cohort_members.cohort_month,
        cohort_members.starting_mrr,
        'class_at_start' as segment_type,
        coalesce(customer_classification.classification, 'unclassified')
            as segment
    from cohort_members
    left join customer_classification
        on
            cohort_members.customer_id = customer_classification.customer_id
            and cohort_members.cohort_month
            = customer_classification.as_of_month

    union all

    select
        cohort_members.customer_id,
        cohort_members.cohort_month,
        cohort_members.starting_mrr,
        'tcp_fit' as segment_type,
        case
            when coalesce(customers_profiled.in_tcp, false) then 'in_tcp'
            else 'outside_tcp'
        end as segment
    from cohort_members
    left join customers_profiled
        on cohort_members.customer_id = customers_profiled.customer_id

    union all

    select
        cohort_members.customer_id,
        cohort_members.cohort_month,
        cohort_members.starting_mrr,
        'agreement_profile' as segment_type,
        coalesce(customer_cross_sell.agreement_profile, 'unclassified')
            as segment
    from cohort_members
    left join customer_cross_sell
        on
            cohort_members.customer_id = customer_cross_sell.customer_id
            and cohort_members.cohort_month = customer_cross_sell.as_of_month
),

cohorts_sized as (
    select
        cohort_month,
        segment_type,
        segment,
        count(*) as cohort_customers,
        sum(starting_mrr) as cohort_starting_mrr
    from cohort_members_segmented
    group by 1, 2, 3
),

-- Every month from the cohort month to the last reported month.
cohorts_expanded_to_months as (
    select
        cohorts_sized.*,
        months.month_start as retention_month,
        {{ dbt.datediff(
            'cohorts_sized.cohort_month', 'months.month_start', 'month'
        ) }} as months_since_start
    from cohorts_sized
    inner join months
        on cohorts_sized.cohort_month <= months.month_start
),

retained_members_summed as (
    select
        segmented.cohort_month,
        segmented.segment_type,
        segmented.segment,
        mrr_movements.as_of_month as retention_month,
        count(*) as retained_customers,
        sum(mrr_movements.mrr) as retained_mrr
    from cohort_members_segmented as segmented
    inner join mrr_movements
        on segmented.customer_id = mrr_movements.customer_id
    where mrr_movements.mrr > 0
    group by 1, 2, 3, 4
),

customer_cohort_retention as (
    select
        cohorts.cohort_month,
        cast(cohorts.months_since_start as integer) as months_since_start,
        cohorts.segment_type,
        cohorts.segment,
        cohorts.retention_month,
        cohorts.cohort_customers,
        cast(cohorts.cohort_starting_mrr as decimal(38, 6))
            as cohort_starting_mrr,
        coalesce(retained.retained_customers, 0) as retained_customers,
        cast(coalesce(retained.retained_mrr, 0) as decimal(38, 6))
            as retained_mrr,
        cast(coalesce(retained.retained_customers, 0) as double)
        / cohorts.cohort_customers as logo_retention,
        cast(coalesce(retained.retained_mrr, 0) as double)
        / nullif(cast(cohorts.cohort_starting_mrr as double), 0)
            as net_revenue_retention
    from cohorts_expanded_to_months as cohorts
    left join retained_members_summed as retained
        on
            cohorts.cohort_month = retained.cohort_month
            and cohorts.segment_type = retained.segment_type
            and cohorts.segment = retained.segment
            and cohorts.retention_month = retained.retention_month
)

select * from customer_cohort_retention
