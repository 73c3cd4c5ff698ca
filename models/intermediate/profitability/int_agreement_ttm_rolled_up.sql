-- A table, not a view: two marts and a reconciliation test read it.
{{ config(materialized='table') }}

-- Trailing-twelve-month totals per agreement (and per customer's
-- unattributed amounts) for every as_of_month, with the months of the window
-- in which the agreement was in force. A row exists for an agreement in
-- force at some point in the window or with amounts attributed in it.
with

month_spine as (
    select * from {{ ref('month_spine') }}
),

agreement_months as (
    select * from {{ ref('int_agreement_months_aggregated') }}
),

agreements_bounded as (
    select * from {{ ref('int_agreements_bounded') }}
),

customer_ttm as (
    select * from {{ ref('int_customer_ttm_rolled_up') }}
),

-- The reporting months in which the agreement was in force on at least one
-- day.
agreement_months_in_force as (
    select
        agreements_bounded.customer_id,
        agreements_bounded.agreement_id,
        agreements_bounded.agreement_type,
        month_spine.month_start
    from agreements_bounded
    inner join month_spine
        on
            agreements_bounded.start_date <= month_spine.month_end
            and (
                agreements_bounded.in_force_until_date is null
                or (
                    agreements_bounded.in_force_until_date
                    > month_spine.month_start
                    and agreements_bounded.in_force_until_date
                    > agreements_bounded.start_date
                )
            )
),

amounts_and_months_unioned as (
    select
        customer_id,
        agreement_id,
        agreement_type,
        month_start,
        revenue,
        product_cost,
        labor_hours,
        labor_cost,
        0 as months_in_force
    from agreement_months
    union all
    select
        customer_id,
        agreement_id,
        agreement_type,
        month_start,
        0 as revenue,
        0 as product_cost,
        0 as labor_hours,
        0 as labor_cost,
        1 as months_in_force
    from agreement_months_in_force
),

agreement_months_in_windows as (
    select
        month_spine.month_start as as_of_month,
        amounts_and_months_unioned.*
    from month_spine
    inner join amounts_and_months_unioned
        on
            month_spine.ttm_window_start_month
            <= amounts_and_months_unioned.month_start
            and month_spine.month_start
            >= amounts_and_months_unioned.month_start
),

agreement_ttm as (
    select
        as_of_month,
        customer_id,
        agreement_id,
        agreement_type,
        cast(sum(revenue) as decimal(38, 4)) as revenue_ttm,
        cast(sum(product_cost) as decimal(38, 4)) as product_cost_ttm,
        cast(sum(labor_hours) as decimal(38, 4)) as labor_hours_ttm,
        cast(sum(labor_cost) as decimal(38, 4)) as labor_cost_ttm,
        cast(sum(months_in_force) as integer) as months_in_force_ttm
    from agreement_months_in_windows
    group by 1, 2, 3, 4
),

-- Marts keep the rows of customers active at the as_of_month, as
-- customer_profitability does, so their totals reconcile.
agreement_ttm_flagged as (
    select
        agreement_ttm.*,
        coalesce(customer_ttm.is_active, false) as is_customer_active
    from agreement_ttm
    left join customer_ttm
        on
            agreement_ttm.as_of_month = customer_ttm.as_of_month
            and agreement_ttm.customer_id = customer_ttm.customer_id
)

select * from agreement_ttm_flagged
