-- Σ revenue_ttm of the classified customers, and the revenue_ttm of
-- portfolio_cross_sell, equal portfolio_concentration's revenue_ttm in every
-- month (exactly: money is decimal). Returns the months that differ.
with

portfolio_concentration as (
    select * from {{ ref('portfolio_concentration') }}
),

customer_classification as (
    select * from {{ ref('customer_classification') }}
),

portfolio_cross_sell as (
    select * from {{ ref('portfolio_cross_sell') }}
),

classification_totals as (
    select
        as_of_month,
        sum(revenue_ttm) as revenue_ttm
    from customer_classification
    group by 1
),

months_compared as (
    select
        portfolio_concentration.as_of_month,
        portfolio_concentration.revenue_ttm as portfolio_revenue_ttm,
        coalesce(classification_totals.revenue_ttm, 0)
            as classified_revenue_ttm,
        portfolio_cross_sell.revenue_ttm as cross_sell_revenue_ttm
    from portfolio_concentration
    full outer join classification_totals
        on
            portfolio_concentration.as_of_month
            = classification_totals.as_of_month
    full outer join portfolio_cross_sell
        on
            portfolio_concentration.as_of_month
            = portfolio_cross_sell.as_of_month
)

select * from months_compared
where
    portfolio_revenue_ttm is null
    or cross_sell_revenue_ttm is null
    or classified_revenue_ttm != portfolio_revenue_ttm
    or cross_sell_revenue_ttm != portfolio_revenue_ttm
