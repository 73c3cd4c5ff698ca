-- A table, not a view: several marts and their tests read it.
{{ config(materialized='table') }}

-- Trailing-twelve-month totals per customer for every as_of_month: each
-- customer month counts in the twelve as_of_months M with
-- M - 11 months <= month <= M.
with

month_spine as (
    select * from {{ ref('month_spine') }}
),

customer_months as (
    select * from {{ ref('int_customer_months_aggregated') }}
),

customer_months_in_windows as (
    select
        month_spine.month_start as as_of_month,
        customer_months.*
    from month_spine
    inner join customer_months
        on
            month_spine.ttm_window_start_month <= customer_months.month_start
            and month_spine.month_start >= customer_months.month_start
),

customer_ttm as (
    select
        as_of_month,
        customer_id,
        sum(revenue) as revenue_ttm,
        sum(revenue_mrr) as revenue_mrr_ttm,
        sum(revenue_project_labor) as revenue_project_labor_ttm,
        sum(revenue_t_and_m) as revenue_t_and_m_ttm,
        sum(revenue_block_time) as revenue_block_time_ttm,
        sum(revenue_product_resale) as revenue_product_resale_ttm,
        sum(product_cost) as product_cost_ttm,
        sum(labor_cost) as labor_cost_ttm
    from customer_months_in_windows
    group by 1, 2
),

customer_ttm_flagged as (
    select
        as_of_month,
        customer_id,
        revenue_ttm,
        revenue_mrr_ttm,
        revenue_project_labor_ttm,
        revenue_t_and_m_ttm,
        revenue_block_time_ttm,
        revenue_product_resale_ttm,
        revenue_mrr_ttm
        + revenue_project_labor_ttm
        + revenue_t_and_m_ttm
        + revenue_block_time_ttm as revenue_service_ttm,
        product_cost_ttm,
        labor_cost_ttm,
        product_cost_ttm + labor_cost_ttm as cost_ttm,
        revenue_ttm > 0 as is_active
    from customer_ttm
)

select * from customer_ttm_flagged
