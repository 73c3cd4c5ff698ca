-- Service profitability per agreement of an active customer: TTM revenue,
-- product and labour cost, gross margin, effective hourly rate, labour hours
-- per month in force and the hours per month at which the agreement would
-- earn the target margin (var profitability_target_margin). Invoice lines
-- and time entries are attributed to agreements by the rule of the docs
-- block agreement_attribution.
{%- set target_margin = fraction_var('profitability_target_margin') %}
with

agreement_ttm as (
    select * from {{ ref('int_agreement_ttm_rolled_up') }}
    where
        agreement_id is not null
        and is_customer_active
        and {{ in_partition('as_of_month') }}
),

customers as (
    select * from {{ ref('stg_landing__customers') }}
),

agreement_ttm_named as (
    select
        agreement_ttm.as_of_month,
        agreement_ttm.agreement_id,
        agreement_ttm.customer_id,
        customers.customer_name,
        agreement_ttm.agreement_type,
        agreement_ttm.months_in_force_ttm,
        agreement_ttm.revenue_ttm,
        agreement_ttm.product_cost_ttm,
        agreement_ttm.labor_hours_ttm,
        agreement_ttm.labor_cost_ttm,
        agreement_ttm.revenue_ttm
        - agreement_ttm.product_cost_ttm
        - agreement_ttm.labor_cost_ttm as gross_margin_ttm
    from agreement_ttm
    left join customers
        on agreement_ttm.customer_id = customers.customer_id
),

-- Ratios in double precision, null where the denominator is 0.
agreement_ratios_computed as (
    select
        *,
        cast(gross_margin_ttm as double)
        / cast(nullif(revenue_ttm, 0) as double) as gross_margin_pct,
        cast(revenue_ttm - product_cost_ttm as double)
        / cast(nullif(labor_hours_ttm, 0) as double) as effective_hourly_rate,
        cast(labor_cost_ttm as double)
        / cast(nullif(labor_hours_ttm, 0) as double)
            as average_loaded_hourly_cost,
        cast(labor_hours_ttm as double)
        / nullif(months_in_force_ttm, 0) as labor_hours_per_month
    from agreement_ttm_named
),

-- The labour hours that leave (revenue - product cost - hours x average
-- loaded hourly cost) equal to the target margin x revenue, per month in
-- force; 0 when even no labour reaches the target, null without an hourly
-- cost to price the hours (greatest() alone would turn null into 0).
target_hours_computed as (
    select
        *,
        case
            when average_loaded_hourly_cost > 0
                then
                    greatest(
                        (
                            (1 - {{ target_margin }})
                            * cast(revenue_ttm as double)
                            - cast(product_cost_ttm as double)
                        )
                        / average_loaded_hourly_cost,
                        0
                    )
                    / nullif(months_in_force_ttm, 0)
        end as target_labor_hours_per_month
    from agreement_ratios_computed
),

agreement_profitability as (
    select
        as_of_month,
        agreement_id,
        customer_id,
        customer_name,
        agreement_type,
        months_in_force_ttm,
        revenue_ttm,
        product_cost_ttm,
        labor_hours_ttm,
        labor_cost_ttm,
        gross_margin_ttm,
        gross_margin_pct,
        effective_hourly_rate,
        average_loaded_hourly_cost,
        labor_hours_per_month,
        cast({{ target_margin }} as double) as target_margin_pct,
        target_labor_hours_per_month,
        labor_hours_per_month
        > target_labor_hours_per_month as is_over_target_hours
    from target_hours_computed
)

select * from agreement_profitability
