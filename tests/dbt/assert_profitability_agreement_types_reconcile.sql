-- For every as_of_month, agreement_type_profitability (the unattributed row
-- included) adds up exactly to customer_profitability's totals of revenue,
-- product cost, labour hours and labour cost, and each agreement type's row
-- to the sum of its agreements in agreement_profitability: no invoice line
-- or time entry is lost or counted twice by the attribution. Returns the
-- months and types that differ.
with

customer_profitability as (
    select * from {{ ref('customer_profitability') }}
),

agreement_type_profitability as (
    select * from {{ ref('agreement_type_profitability') }}
),

agreement_profitability as (
    select * from {{ ref('agreement_profitability') }}
),

customer_totals as (
    select
        as_of_month,
        sum(revenue_ttm) as revenue_ttm,
        sum(product_cost_ttm) as product_cost_ttm,
        sum(labor_hours_ttm) as labor_hours_ttm,
        sum(labor_cost_ttm) as labor_cost_ttm
    from customer_profitability
    group by 1
),

agreement_type_totals as (
    select
        as_of_month,
        sum(revenue_ttm) as revenue_ttm,
        sum(product_cost_ttm) as product_cost_ttm,
        sum(labor_hours_ttm) as labor_hours_ttm,
        sum(labor_cost_ttm) as labor_cost_ttm
    from agreement_type_profitability
    group by 1
),

months_compared as (
    select
        coalesce(customer_totals.as_of_month, agreement_type_totals.as_of_month)
            as as_of_month,
        'all types' as agreement_type
    from customer_totals
    full outer join agreement_type_totals
        on customer_totals.as_of_month = agreement_type_totals.as_of_month
    where
        coalesce(customer_totals.revenue_ttm, 0)
        != coalesce(agreement_type_totals.revenue_ttm, 0)
        or coalesce(customer_totals.product_cost_ttm, 0)
        != coalesce(agreement_type_totals.product_cost_ttm, 0)
        or coalesce(customer_totals.labor_hours_ttm, 0)
        != coalesce(agreement_type_totals.labor_hours_ttm, 0)
        or coalesce(customer_totals.labor_cost_ttm, 0)
        != coalesce(agreement_type_totals.labor_cost_ttm, 0)
),

agreements_by_type as (
    select
        as_of_month,
        agreement_type,
        count(*) as agreements,
        sum(revenue_ttm) as revenue_ttm,
        sum(product_cost_ttm) as product_cost_ttm,
        sum(labor_hours_ttm) as labor_hours_ttm,
        sum(labor_cost_ttm) as labor_cost_ttm
    from agreement_profitability
    group by 1, 2
),

types_compared as (
    select
        coalesce(
            agreements_by_type.as_of_month,
            agreement_type_profitability.as_of_month
        ) as as_of_month,
        coalesce(
            agreements_by_type.agreement_type,
            agreement_type_profitability.agreement_type
        ) as agreement_type
    from agreements_by_type
    full outer join agreement_type_profitability
        on
            agreements_by_type.as_of_month
            = agreement_type_profitability.as_of_month
            and agreements_by_type.agreement_type
            = agreement_type_profitability.agreement_type
    where
        coalesce(agreement_type_profitability.agreement_type, '')
        != 'unattributed'
        and (
            agreements_by_type.agreements is null
            or agreement_type_profitability.agreements is null
            or agreements_by_type.agreements
            != agreement_type_profitability.agreements
            or agreements_by_type.revenue_ttm
            != agreement_type_profitability.revenue_ttm
            or agreements_by_type.product_cost_ttm
            != agreement_type_profitability.product_cost_ttm
            or agreements_by_type.labor_hours_ttm
            != agreement_type_profitability.labor_hours_ttm
            or agreements_by_type.labor_cost_ttm
            != agreement_type_profitability.labor_cost_ttm
        )
),

differences as (
    select * from months_compared
    union all
    select * from types_compared
)

select * from differences
