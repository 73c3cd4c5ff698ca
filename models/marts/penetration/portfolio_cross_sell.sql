-- Part C, per portfolio: how far the customer base is cross-sold, and how
-- close it is to best-in-class (most customers in the TCP and on the full
-- package).
with

month_spine as (
    select * from {{ ref('month_spine') }}
    where {{ in_partition('month_start') }}
),

customer_cross_sell as (
    select * from {{ ref('customer_cross_sell') }}
    where {{ in_partition('as_of_month') }}
),

portfolio_totals as (
    select
        as_of_month,
        count(*) as active_customers,
        sum(revenue_ttm) as revenue_ttm,
        sum(whitespace_revenue) as whitespace_revenue,
        count(case when in_tcp then 1 end) as tcp_customers,
        count(case when is_on_full_package then 1 end)
            as full_package_customers,
        count(case when in_tcp and is_on_full_package then 1 end)
            as tcp_and_full_package_customers,
        sum(offerings_owned) as offerings_owned
    from customer_cross_sell
    group by 1
),

portfolio_figures as (
    select
        month_spine.month_start as as_of_month,
        coalesce(totals.active_customers, 0) as active_customers,
        cast(coalesce(totals.revenue_ttm, 0) as decimal(38, 4))
            as revenue_ttm,
        cast(coalesce(totals.whitespace_revenue, 0) as decimal(38, 4))
            as whitespace_revenue,
        cast(
            coalesce(totals.revenue_ttm, 0)
            + coalesce(totals.whitespace_revenue, 0) as decimal(38, 4)
        ) as revenue_at_full_cross_sell,
        cast(totals.revenue_ttm as double)
        / cast(
            nullif(totals.revenue_ttm + totals.whitespace_revenue, 0)
            as double
        ) as cross_sell_ratio,
        coalesce(totals.tcp_customers, 0) as tcp_customers,
        coalesce(totals.full_package_customers, 0) as full_package_customers,
        coalesce(totals.tcp_and_full_package_customers, 0)
            as tcp_and_full_package_customers,
        cast(totals.tcp_and_full_package_customers as double)
        / totals.active_customers as pct_in_tcp_and_full_package,
        cast(totals.offerings_owned as double)
        / totals.active_customers as avg_offerings_owned
    from month_spine
    left join portfolio_totals as totals
        on month_spine.month_start = totals.as_of_month
),

portfolio_flagged as (
    select
        *,
        coalesce(
            pct_in_tcp_and_full_package > {{ fraction_var(
                'cross_sell_best_in_class_tcp_and_full_package_share'
            ) }},
            false
        ) as is_best_in_class_tcp_and_full_package
    from portfolio_figures
)

select * from portfolio_flagged
