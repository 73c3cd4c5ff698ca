-- A table, not a view: several marts and their tests read it.
{{ config(materialized='table') }}

-- Revenue by revenue type and cost per customer per calendar month: the one
-- place invoice lines and time entries are summed. Revenue and product cost
-- are dated by invoice_date, labour hours and cost by work_date. One revenue
-- column per revenue type of the landing contract, in its order; product cost
-- split into the cost of service lines (the service revenue types) and of
-- product resale lines (every other type).
{%- set revenue_types = revenue_types() %}
{%- set service_revenue_type_list = (
    "'" ~ service_revenue_types() | join("', '") ~ "'"
) %}
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
        {%- for revenue_type in revenue_types %}
        sum(
            case
                when revenue_type = '{{ revenue_type }}' then extended_price
                else 0
            end
        ) as revenue_{{ revenue_type }},
        {%- endfor %}
        sum(extended_cost) as product_cost,
        sum(
            case
                when revenue_type in ({{ service_revenue_type_list }})
                    then extended_cost
                else 0
            end
        ) as product_cost_service,
        sum(
            case
                when revenue_type in ({{ service_revenue_type_list }}) then 0
                else extended_cost
            end
        ) as product_cost_product_resale,
        0 as labor_hours,
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
        {%- for revenue_type in revenue_types %}
        0 as revenue_{{ revenue_type }},
        {%- endfor %}
        0 as product_cost,
        0 as product_cost_service,
        0 as product_cost_product_resale,
        sum(hours_actual) as labor_hours,
        -- Each entry's labour cost rounded to 4 decimals before summing, as
        -- int_profit_items_unioned does: the agreement marts then add up to
        -- the customer marts exactly, however the entries are grouped.
        sum(cast(hours_actual * loaded_hourly_cost as decimal(38, 4)))
            as labor_cost
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
        {%- for revenue_type in revenue_types %}
        cast(sum(revenue_{{ revenue_type }}) as decimal(38, 4))
            as revenue_{{ revenue_type }},
        {%- endfor %}
        cast(sum(product_cost) as decimal(38, 4)) as product_cost,
        cast(sum(labor_cost) as decimal(38, 4)) as labor_cost,
        cast(sum(product_cost_service) as decimal(38, 4))
            as product_cost_service,
        cast(sum(product_cost_product_resale) as decimal(38, 4))
            as product_cost_product_resale,
        cast(sum(labor_hours) as decimal(38, 4)) as labor_hours
    from unioned
    group by 1, 2
)

select * from customer_months
