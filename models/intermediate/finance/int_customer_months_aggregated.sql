-- A table, not a view: several marts and their tests read it.
{{ config(materialized='table') }}

-- Revenue by revenue type and cost per customer per calendar month: the one
-- place invoice lines and time entries are summed. Revenue and product cost
-- are dated by invoice_date, labour cost by work_date.
with

invoice_lines as (
    select * from {{ ref('stg_landing__invoice_lines') }}
),

time_entries as (
    select * from {{ ref('stg_landing__time_entries') }}
),

invoice_lines_by_customer_month as (
    select
        customer_id,
        cast({{ dbt.date_trunc('month', 'invoice_date') }} as date)
            as month_start,
        sum(extended_price) as revenue,
        sum(case when revenue_type = 'mrr' then extended_price else 0 end)
            as revenue_mrr,
        sum(
            case
                when revenue_type = 'project_labor' then extended_price else 0
            end
        ) as revenue_project_labor,
        sum(
            case when revenue_type = 't_and_m' then extended_price else 0 end
        ) as revenue_t_and_m,
        sum(
            case when revenue_type = 'block_time' then extended_price else 0 end
        ) as revenue_block_time,
        sum(
            case
                when revenue_type = 'product_resale' then extended_price else 0
            end
        ) as revenue_product_resale,
        sum(extended_cost) as product_cost,
        0 as labor_cost
    from invoice_lines
    group by 1, 2
),

time_entries_by_customer_month as (
    select
        customer_id,
        cast({{ dbt.date_trunc('month', 'work_date') }} as date)
            as month_start,
        0 as revenue,
        0 as revenue_mrr,
        0 as revenue_project_labor,
        0 as revenue_t_and_m,
        0 as revenue_block_time,
        0 as revenue_product_resale,
        0 as product_cost,
        sum(hours_actual * loaded_hourly_cost) as labor_cost
    from time_entries
    group by 1, 2
),

unioned as (
    select * from invoice_lines_by_customer_month
    union all
    select * from time_entries_by_customer_month
),

customer_months as (
    select
        customer_id,
        month_start,
        cast(sum(revenue) as decimal(38, 4)) as revenue,
        cast(sum(revenue_mrr) as decimal(38, 4)) as revenue_mrr,
        cast(sum(revenue_project_labor) as decimal(38, 4))
            as revenue_project_labor,
        cast(sum(revenue_t_and_m) as decimal(38, 4)) as revenue_t_and_m,
        cast(sum(revenue_block_time) as decimal(38, 4)) as revenue_block_time,
        cast(sum(revenue_product_resale) as decimal(38, 4))
            as revenue_product_resale,
        cast(sum(product_cost) as decimal(38, 4)) as product_cost,
        cast(sum(labor_cost) as decimal(38, 4)) as labor_cost
    from unioned
    group by 1, 2
)

select * from customer_months
