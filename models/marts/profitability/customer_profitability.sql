-- Service profitability per active customer: TTM revenue, product and labour
-- cost, gross margin split into service and product resale margin, and the
-- effective hourly rate (see the docs block profitability_figures).
with

customer_ttm as (
    select * from {{ ref('int_customer_ttm_rolled_up') }}
    where is_active and {{ in_partition('as_of_month') }}
),

customers as (
    select * from {{ ref('stg_landing__customers') }}
),

customer_ttm_named as (
    select
        customer_ttm.as_of_month,
        customer_ttm.customer_id,
        customers.customer_name,
        customer_ttm.revenue_ttm,
        customer_ttm.revenue_service_ttm,
        customer_ttm.revenue_product_resale_ttm,
        customer_ttm.labor_hours_ttm,
        customer_ttm.labor_cost_ttm,
        customer_ttm.product_cost_ttm,
        customer_ttm.product_cost_service_ttm,
        customer_ttm.product_cost_product_resale_ttm,
        customer_ttm.revenue_ttm
        - customer_ttm.product_cost_ttm
        - customer_ttm.labor_cost_ttm as gross_margin_ttm,
        customer_ttm.service_margin_ttm,
        customer_ttm.product_resale_margin_ttm
    from customer_ttm
    left join customers
        on customer_ttm.customer_id = customers.customer_id
),

-- Ratios in double precision, null where the denominator is 0.
customer_ratios_computed as (
    select
        as_of_month,
        customer_id,
        customer_name,
        cast(revenue_ttm as decimal(38, 4)) as revenue_ttm,
        cast(revenue_service_ttm as decimal(38, 4)) as revenue_service_ttm,
        cast(revenue_product_resale_ttm as decimal(38, 4))
            as revenue_product_resale_ttm,
        cast(labor_hours_ttm as decimal(38, 4)) as labor_hours_ttm,
        cast(labor_cost_ttm as decimal(38, 4)) as labor_cost_ttm,
        cast(product_cost_ttm as decimal(38, 4)) as product_cost_ttm,
        cast(product_cost_service_ttm as decimal(38, 4))
            as product_cost_service_ttm,
        cast(product_cost_product_resale_ttm as decimal(38, 4))
            as product_cost_product_resale_ttm,
        cast(gross_margin_ttm as decimal(38, 4)) as gross_margin_ttm,
        cast(service_margin_ttm as decimal(38, 4)) as service_margin_ttm,
        cast(product_resale_margin_ttm as decimal(38, 4))
            as product_resale_margin_ttm,
        cast(gross_margin_ttm as double)
        / cast(nullif(revenue_ttm, 0) as double) as gross_margin_pct,
        cast(service_margin_ttm as double)
        / cast(nullif(revenue_service_ttm, 0) as double)
            as service_margin_pct,
        cast(product_resale_margin_ttm as double)
        / cast(nullif(revenue_product_resale_ttm, 0) as double)
            as product_resale_margin_pct,
        cast(revenue_ttm - product_cost_ttm as double)
        / cast(nullif(labor_hours_ttm, 0) as double) as effective_hourly_rate
    from customer_ttm_named
)

select * from customer_ratios_computed
