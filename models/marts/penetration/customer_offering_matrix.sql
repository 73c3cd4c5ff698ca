-- Part C, the "tech stack" matrix: every active customer against every
-- offering of the catalogue, with the pair's TTM revenue and whether the
-- customer owns the offering, for every as_of_month.
with

month_spine as (
    select * from {{ ref('month_spine') }}
    where {{ in_partition('month_start') }}
),

active_customers as (
    select
        as_of_month,
        customer_id
    from {{ ref('int_customer_ttm_rolled_up') }}
    where is_active and {{ in_partition('as_of_month') }}
),

customers as (
    select * from {{ ref('stg_landing__customers') }}
),

offerings as (
    select * from {{ ref('stg_landing__offerings') }}
),

-- The months the run's TTM windows read: its months and the 11 before them.
customer_offering_months as (
    select * from {{ ref('int_customer_offering_months_aggregated') }}
    where {{ in_partition('month_start', months_before=11) }}
),

-- Each customer-offering month counts in the twelve as_of_months M with
-- M - 11 months <= month <= M, as in int_customer_ttm_rolled_up.
customer_offering_ttm as (
    select
        month_spine.month_start as as_of_month,
        customer_offering_months.customer_id,
        customer_offering_months.offering_id,
        sum(customer_offering_months.revenue) as revenue_ttm
    from month_spine
    inner join customer_offering_months
        on
            month_spine.ttm_window_start_month
            <= customer_offering_months.month_start
            and month_spine.month_start >= customer_offering_months.month_start
    group by 1, 2, 3
),

active_customers_crossed_with_offerings as (
    select
        active_customers.as_of_month,
        active_customers.customer_id,
        offerings.offering_id,
        offerings.offering_name,
        offerings.offering_family,
        offerings.revenue_type,
        offerings.lifecycle,
        offerings.is_full_package_component
    from active_customers
    cross join offerings
),

matrix as (
    select
        pairs.as_of_month,
        pairs.customer_id,
        customers.customer_name,
        pairs.offering_id,
        pairs.offering_name,
        pairs.offering_family,
        pairs.revenue_type,
        pairs.lifecycle,
        coalesce(pairs.is_full_package_component, false)
            as is_full_package_component,
        cast(coalesce(customer_offering_ttm.revenue_ttm, 0) as decimal(38, 4))
            as revenue_ttm,
        coalesce(customer_offering_ttm.revenue_ttm > 0, false)
            as owns_offering
    from active_customers_crossed_with_offerings as pairs
    left join customer_offering_ttm
        on
            pairs.as_of_month = customer_offering_ttm.as_of_month
            and pairs.customer_id = customer_offering_ttm.customer_id
            and pairs.offering_id = customer_offering_ttm.offering_id
    left join customers
        on pairs.customer_id = customers.customer_id
)

select * from matrix
