-- Part A, per portfolio: how concentrated TTM revenue is in each
-- as_of_month, and whether it crosses the warning thresholds (dbt vars).
with

month_spine as (
    select * from {{ ref('month_spine') }}
    where {{ in_partition('month_start') }}
),

customer_concentration as (
    select * from {{ ref('customer_concentration') }}
    where {{ in_partition('as_of_month') }}
),

-- Gini weights need N; the ascending rank i of a customer is N + 1 - its
-- descending revenue_rank, so (2i - N - 1) = N + 1 - 2 * revenue_rank.
customers_weighted as (
    select
        *,
        count(*) over (partition by as_of_month) as active_customers
    from customer_concentration
),

portfolio_totals as (
    select
        as_of_month,
        count(*) as active_customers,
        sum(revenue_ttm) as revenue_ttm,
        -- Squares summed from revenues, not from shares, so that round
        -- revenues give exact indices (400/300/200/100 -> 3 000); in
        -- decimals, so that the sum does not depend on the order in which a
        -- parallel aggregate adds it (a double sum differed by 1e-13).
        sum(revenue_ttm * revenue_ttm) as revenue_ttm_squared_sum,
        sum(case when revenue_rank <= 1 then revenue_ttm else 0 end)
            as top1_revenue_ttm,
        sum(case when revenue_rank <= 5 then revenue_ttm else 0 end)
            as top5_revenue_ttm,
        sum(case when revenue_rank <= 10 then revenue_ttm else 0 end)
            as top10_revenue_ttm,
        sum((active_customers + 1 - 2 * revenue_rank) * revenue_ttm)
            as gini_numerator,
        count(case when is_in_pareto_80_head then 1 end)
            as pareto_80_customer_count
    from customers_weighted
    group by 1
),

portfolio_figures as (
    select
        month_spine.month_start as as_of_month,
        month_spine.is_full_ttm_window,
        coalesce(portfolio_totals.active_customers, 0) as active_customers,
        cast(coalesce(portfolio_totals.revenue_ttm, 0) as decimal(38, 4))
            as revenue_ttm,
        10000 * cast(portfolio_totals.revenue_ttm_squared_sum as double)
        / power(cast(portfolio_totals.revenue_ttm as double), 2) as hhi,
        cast(portfolio_totals.top1_revenue_ttm as double)
        / cast(portfolio_totals.revenue_ttm as double) as top1_share,
        cast(portfolio_totals.top5_revenue_ttm as double)
        / cast(portfolio_totals.revenue_ttm as double) as top5_share,
        cast(portfolio_totals.top10_revenue_ttm as double)
        / cast(portfolio_totals.revenue_ttm as double) as top10_share,
        cast(portfolio_totals.gini_numerator as double)
        / (
            portfolio_totals.active_customers
            * cast(portfolio_totals.revenue_ttm as double)
        ) as gini,
        portfolio_totals.pareto_80_customer_count,
        cast(portfolio_totals.pareto_80_customer_count as double)
        / portfolio_totals.active_customers as pareto_80_customer_share
    from month_spine
    left join portfolio_totals
        on month_spine.month_start = portfolio_totals.as_of_month
),

portfolio_flagged as (
    select
        *,
        coalesce(
            top1_share > {{ fraction_var('concentration_warning_top1_share') }},
            false
        ) as has_top1_share_warning,
        coalesce(
            top5_share > {{ fraction_var('concentration_warning_top5_share') }},
            false
        ) as has_top5_share_warning,
        coalesce(
            top10_share
            > {{ fraction_var('concentration_warning_top10_share') }},
            false
        ) as has_top10_share_warning,
        coalesce(
            hhi > {{ number_var('concentration_warning_hhi') }}, false
        ) as has_hhi_warning
    from portfolio_figures
),

portfolio_warnings as (
    select
        *,
        has_top1_share_warning
        or has_top5_share_warning
        or has_top10_share_warning
        or has_hhi_warning as has_concentration_warning
    from portfolio_flagged
)

select * from portfolio_warnings
