-- At every quarter end, the customers with a class in
-- classification_transitions are exactly those of customer_classification
-- at that month, and those with a previous class exactly those of the
-- previous quarter end. Returns the quarter ends whose counts differ.
with

month_spine as (
    select * from {{ ref('month_spine') }}
),

customer_classification as (
    select * from {{ ref('customer_classification') }}
),

classification_transitions as (
    select * from {{ ref('classification_transitions') }}
),

classified_per_month as (
    select
        as_of_month,
        count(*) as customers
    from customer_classification
    group by 1
),

quarter_ends as (
    select
        month_start as quarter_end_month,
        cast({{ dbt.dateadd('month', -3, 'month_start') }} as date)
            as previous_quarter_end_month
    from month_spine
    where extract(month from month_start) in (3, 6, 9, 12)
),

transition_counts as (
    select
        quarter_end_month,
        count(classification) as classified_now,
        count(previous_classification) as classified_before
    from classification_transitions
    group by 1
),

quarter_ends_compared as (
    select
        quarter_ends.quarter_end_month,
        coalesce(transition_counts.classified_now, 0) as classified_now,
        coalesce(transition_counts.classified_before, 0) as classified_before,
        coalesce(now_classified.customers, 0) as expected_now,
        coalesce(before_classified.customers, 0) as expected_before
    from quarter_ends
    left join transition_counts
        on quarter_ends.quarter_end_month = transition_counts.quarter_end_month
    left join classified_per_month as now_classified
        on quarter_ends.quarter_end_month = now_classified.as_of_month
    left join classified_per_month as before_classified
        on
            quarter_ends.previous_quarter_end_month
            = before_classified.as_of_month
)

select * from quarter_ends_compared
where
    classified_now != expected_now
    or classified_before != expected_before
