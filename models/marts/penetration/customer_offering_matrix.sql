-- Part C, the "tech stack" matrix: every active customer against every
-- offering of the catalogue, with the pair's TTM revenue and whether the
-- customer owns the offering, for every as_of_month.
with

-- The months the run's TTM windows read: its months and the 11 before them.
month_spine as (
    select * from {{ ref('month_spine') }}
    where {{ in_partition('month_start', months_before=11) }}
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

customer_offering_months as (
    select * from {{ ref('int_customer_offering_months_aggregated') }}
    where {{ in_partition('month_start', months_before=11) }}
),

-- Each pair from its first month with revenue to the last month whose TTM
-- window still holds its last month with revenue.
customer_offering_spans as (
    select
        customer_id,
        offering_id,
        min(month_start) as first_month,
        max(month_start) as last_month
    from customer_offering_months
    group by 1, 2
),

-- Every month of each span (months without revenue included), so that the
-- twelve rows up to a month are the months M - 11 ... M of its window: a
-- rolling window over one row per month, as in int_customer_ttm_rolled_up's
-- definition (M - 11 months <= month <= M).
customer_offering_month_grid as (
    select
        spans.customer_id,
        spans.offering_id,
        month_spine.month_start
    from customer_offering_spans as spans
    inner join month_spine
        on
            spans.first_month <= month_spine.month_start
            and spans.last_month >= month_spine.ttm_window_start_month
),

customer_offering_ttm_rolled as (
    select
        grid.month_start as as_of_month,
        grid.customer_id,
        grid.offering_id,
        sum(customer_offering_months.revenue) over (
            partition by grid.customer_id, grid.offering_id
            order by grid.month_start
            rows between 11 preceding and current row
        ) as revenue_ttm
    from customer_offering_month_grid as grid
    left join customer_offering_months
        on
            grid.customer_id = customer_offering_months.customer_id
            and grid.offering_id = customer_offering_months.offering_id
            and grid.month_start = customer_offering_months.month_start
),

-- Months of a gap longer than the window have no revenue in it (null).
customer_offering_ttm as (
    select * from customer_offering_ttm_rolled
    where revenue_ttm is not null and {{ in_partition('as_of_month') }}
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
