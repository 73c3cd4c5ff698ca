-- Agreement profitability rolled up per agreement type, with the amounts
-- attributed to no agreement in the row 'unattributed': per as_of_month the
-- rows add up to the totals of customer_profitability.
with

agreement_ttm as (
    select * from {{ ref('int_agreement_ttm_rolled_up') }}
    where is_customer_active and {{ in_partition('as_of_month') }}
),

agreement_types_summed as (
    select
        as_of_month,
        agreement_type,
        count(distinct agreement_id) as agreements,
        count(distinct customer_id) as customers,
        cast(sum(revenue_ttm) as decimal(38, 4)) as revenue_ttm,
        cast(sum(product_cost_ttm) as decimal(38, 4)) as product_cost_ttm,
        cast(sum(labor_hours_ttm) as decimal(38, 4)) as labor_hours_ttm,
        cast(sum(labor_cost_ttm) as decimal(38, 4)) as labor_cost_ttm
    from agreement_ttm
    group by 1, 2
),

agreement_type_profitability as (
    select
        as_of_month,
        agreement_type,
        agreements,
        customers,
        revenue_ttm,
        product_cost_ttm,
        labor_hours_ttm,
        labor_cost_ttm,
        revenue_ttm - product_cost_ttm - labor_cost_ttm as gross_margin_ttm,
        cast(revenue_ttm - product_cost_ttm - labor_cost_ttm as double)
        / cast(nullif(revenue_ttm, 0) as double) as gross_margin_pct,
        cast(revenue_ttm - product_cost_ttm as double)
        / cast(nullif(labor_hours_ttm, 0) as double) as effective_hourly_rate
    from agreement_types_summed
)

select * from agreement_type_profitability
