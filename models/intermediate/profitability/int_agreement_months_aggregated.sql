-- A table, not a view: its data tests and int_agreement_ttm_rolled_up read
-- it, and each read of a view would aggregate every attributed item again.
{{ config(materialized='table') }}

-- Revenue, product cost, labour hours and labour cost per agreement per
-- calendar month, from the attributed invoice lines and time entries. Amounts
-- attributed to no agreement form one row per customer and month with a null
-- agreement_id and agreement_type 'unattributed', so nothing is lost.
with

items_attributed as (
    select * from {{ ref('int_profit_items_attributed') }}
),

agreement_months as (
    select
        customer_id,
        agreement_id,
        agreement_type,
        month_start,
        cast(sum(revenue) as decimal(38, 4)) as revenue,
        cast(sum(product_cost) as decimal(38, 4)) as product_cost,
        cast(sum(labor_hours) as decimal(38, 4)) as labor_hours,
        cast(sum(labor_cost) as decimal(38, 4)) as labor_cost
    from items_attributed
    group by 1, 2, 3, 4
)

select * from agreement_months
