-- Part C, per offering: how many active customers own it, overall and among
-- TCP customers, and the average TTM revenue per owner (ARPO), which prices
-- the whitespace of customer_cross_sell.
with

month_spine as (
    select * from {{ ref('month_spine') }}
    where {{ in_partition('month_start') }}
),

offerings as (
    select * from {{ ref('stg_landing__offerings') }}
),

customer_offering_matrix as (
    select * from {{ ref('customer_offering_matrix') }}
    where {{ in_partition('as_of_month') }}
),

customers_profiled as (
    select * from {{ ref('int_customers_profiled') }}
),

matrix_with_tcp as (
    select
        customer_offering_matrix.*,
        coalesce(customers_profiled.in_tcp, false) as in_tcp
    from customer_offering_matrix
    left join customers_profiled
        on customer_offering_matrix.customer_id = customers_profiled.customer_id
),

offering_owners as (
    select
        as_of_month,
        offering_id,
        count(*) as active_customers,
        count(case when in_tcp then 1 end) as tcp_customers,
        count(case when owns_offering then 1 end) as owning_customers,
        count(case when owns_offering and in_tcp then 1 end)
            as owning_tcp_customers,
        -- Owners only: a non-owner's net credit does not lower the ARPO.
        sum(case when owns_offering then revenue_ttm else 0 end)
            as revenue_ttm
    from matrix_with_tcp
    group by 1, 2
),

-- Every offering in every month, so an offering nobody owns (or a month
-- without active customers) still has its row.
months_crossed_with_offerings as (
    select
        month_spine.month_start as as_of_month,
        offerings.offering_id,
        offerings.offering_name,
        offerings.offering_family,
        offerings.revenue_type,
        offerings.lifecycle,
        coalesce(offerings.is_full_package_component, false)
            as is_full_package_component
    from month_spine
    cross join offerings
),

-- ARPO is rounded to 0.0001 of the currency exactly (rounded_quotient), so
-- sums of ARPOs are exact and equal on every engine.
offering_penetration as (
    select
        pairs.*,
        coalesce(offering_owners.active_customers, 0) as active_customers,
        coalesce(offering_owners.tcp_customers, 0) as tcp_customers,
        coalesce(offering_owners.owning_customers, 0) as owning_customers,
        coalesce(offering_owners.owning_tcp_customers, 0)
            as owning_tcp_customers,
        cast(offering_owners.owning_customers as double)
        / nullif(offering_owners.active_customers, 0) as penetration_rate,
        cast(offering_owners.owning_tcp_customers as double)
        / nullif(offering_owners.tcp_customers, 0) as penetration_rate_tcp,
        cast(coalesce(offering_owners.revenue_ttm, 0) as decimal(38, 4))
            as revenue_ttm,
        {{ rounded_quotient(
            'offering_owners.revenue_ttm', 'offering_owners.owning_customers'
        ) }} as avg_revenue_per_owner
    from months_crossed_with_offerings as pairs
    left join offering_owners
        on
            pairs.as_of_month = offering_owners.as_of_month
            and pairs.offering_id = offering_owners.offering_id
)

select * from offering_penetration
