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
        {%- for revenue_type in revenue_types() %}
        sum(revenue_{{ revenue_type }}) as revenue_{{ revenue_type }}_ttm,
        {%- endfor %}
        sum(product_cost) as product_cost_ttm,
        sum(labor_cost) as labor_cost_ttm,
        sum(product_cost_service) as product_cost_service_ttm,
        sum(product_cost_product_resale) as product_cost_product_resale_ttm,
        sum(labor_hours) as labor_hours_ttm
    from customer_months_in_windows
    group by 1, 2
),

customer_ttm_flagged as (
    select
        as_of_month,
        customer_id,
        revenue_ttm,
        {%- for revenue_type in revenue_types() %}
        revenue_{{ revenue_type }}_ttm,
        {%- endfor %}
        -- Service revenue: every revenue type but product resale.
        (
            {%- for revenue_type in service_revenue_types() %}
            {{ '+ ' if not loop.first }}revenue_{{ revenue_type }}_ttm
            {%- endfor %}
        ) as revenue_service_ttm,
        product_cost_ttm,
        labor_cost_ttm,
        product_cost_ttm + labor_cost_ttm as cost_ttm,
        revenue_ttm > 0 as is_active,
        product_cost_service_ttm,
        product_cost_product_resale_ttm,
        labor_hours_ttm
    from customer_ttm
),

-- Service margin: service revenue less the product cost of service lines
-- and all labour cost; product resale margin: resale revenue less the
-- product cost of resale lines. The two add up to the gross margin.
customer_ttm_with_margins as (
    select
        *,
        revenue_service_ttm
        - product_cost_service_ttm
        - labor_cost_ttm as service_margin_ttm,
        revenue_product_resale_ttm
        - product_cost_product_resale_ttm as product_resale_margin_ttm
    from customer_ttm_flagged
)

select * from customer_ttm_with_margins
