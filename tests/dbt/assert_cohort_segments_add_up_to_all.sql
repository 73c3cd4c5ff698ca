-- Each segment type splits every cohort into segments: summed over the
-- segments of a type, every figure of a cohort month equals the `all` row.
-- And every cohort has one `all` row per month from its cohort month to the
-- last reported MRR month, months_since_start 0, 1, 2, … without a gap.
with

customer_cohort_retention as (
    select * from {{ ref('customer_cohort_retention') }}
),

months as (
    select * from {{ ref('int_mrr_months_spanned') }}
),

segments_summed as (
    select
        cohort_month,
        months_since_start,
        segment_type,
        sum(cohort_customers) as cohort_customers,
        sum(cohort_starting_mrr) as cohort_starting_mrr,
        sum(retained_customers) as retained_customers,
        sum(retained_mrr) as retained_mrr
    from customer_cohort_retention
    where segment_type <> 'all'
    group by 1, 2, 3
),

whole_cohorts as (
    select * from customer_cohort_retention
    where segment_type = 'all'
),

segment_mismatches as (
    select
        segments_summed.cohort_month,
        segments_summed.months_since_start,
        segments_summed.segment_type as failure
    from segments_summed
    left join whole_cohorts
        on
            segments_summed.cohort_month = whole_cohorts.cohort_month
            and segments_summed.months_since_start
            = whole_cohorts.months_since_start
    where
        whole_cohorts.cohort_month is null
        or segments_summed.cohort_customers <> whole_cohorts.cohort_customers
        or segments_summed.cohort_starting_mrr
        <> whole_cohorts.cohort_starting_mrr
        or segments_summed.retained_customers
        <> whole_cohorts.retained_customers
        or segments_summed.retained_mrr <> whole_cohorts.retained_mrr
),

expected_cohort_months as (
    select
        cohorts.cohort_month,
        months.month_start as retention_month
    from (select distinct cohort_month from whole_cohorts) as cohorts
    inner join months
        on cohorts.cohort_month <= months.month_start
),

missing_or_extra_months as (
    select
        coalesce(expected.cohort_month, whole_cohorts.cohort_month)
            as cohort_month,
        whole_cohorts.months_since_start,
        'month missing or extra' as failure
    from expected_cohort_months as expected
    full outer join whole_cohorts
        on
            expected.cohort_month = whole_cohorts.cohort_month
            and expected.retention_month = whole_cohorts.retention_month
    where
        expected.cohort_month is null
        or whole_cohorts.cohort_month is null
        or whole_cohorts.retention_month <> cast(
            {{ dbt.dateadd(
                'month',
                'whole_cohorts.months_since_start',
                'whole_cohorts.cohort_month'
            ) }} as date
        )
)

select * from segment_mismatches
union all
select * from missing_or_extra_months
