-- Part B: each active customer's TTM gross margin and its A/B/C/D class from
-- size (share of revenue) and margin (against the portfolio's margin or a
-- fixed cut-off), with the action the class calls for. Cut-offs are dbt
-- vars (see the docs block classification_method).
{%- set large_share = fraction_var('classification_large_revenue_share') %}
{%- set margin_cut_off = margin_cut_off_var('classification_margin_cut_off') %}
{%- set margin_basis = var('classification_margin_basis') | string | lower %}
{%- if margin_basis not in ['total', 'service'] %}
    {{ exceptions.raise_compiler_error(
        "var 'classification_margin_basis' must be 'total' or 'service', got "
        ~ margin_basis
    ) }}
{%- endif %}
{#- The margin and revenue is_high_margin compares: gross margin of all
    revenue, or service margin of service revenue. #}
{%- set graded_margin = (
    'gross_margin_ttm' if margin_basis == 'total' else 'service_margin_ttm'
) %}
{%- set graded_revenue = (
    'revenue_ttm' if margin_basis == 'total' else 'revenue_service_ttm'
) %}
{%- set a_requires_tcp = boolean_var('classification_a_requires_tcp') %}
{%- set a_requires_full_package = boolean_var(
    'classification_a_requires_full_package'
) %}
with

customer_concentration as (
    select * from {{ ref('customer_concentration') }}
    where {{ in_partition('as_of_month') }}
),

customer_ttm as (
    select * from {{ ref('int_customer_ttm_rolled_up') }}
    where is_active and {{ in_partition('as_of_month') }}
),

customers_profiled as (
    select * from {{ ref('int_customers_profiled') }}
),

customer_cross_sell as (
    select * from {{ ref('customer_cross_sell') }}
    where {{ in_partition('as_of_month') }}
),

customer_classes as (
    select * from {{ ref('customer_classes') }}
),

customer_margins as (
    select
        customer_concentration.as_of_month,
        customer_concentration.customer_id,
        customer_concentration.customer_name,
        customers_profiled.industry,
        customers_profiled.employee_count,
        customer_concentration.revenue_ttm,
        customer_ttm.product_cost_ttm,
        customer_ttm.labor_cost_ttm,
        customer_ttm.cost_ttm,
        customer_concentration.revenue_ttm
        - customer_ttm.cost_ttm as gross_margin_ttm,
        customer_ttm.revenue_service_ttm,
        customer_ttm.service_margin_ttm,
        customer_concentration.revenue_rank,
        customer_concentration.cumulative_revenue_ttm,
        customer_concentration.cumulative_revenue_share,
        coalesce(customers_profiled.in_tcp, false) as in_tcp,
        coalesce(customer_cross_sell.is_on_full_package, false)
            as is_on_full_package
    from customer_concentration
    inner join customer_ttm
        on
            customer_concentration.as_of_month = customer_ttm.as_of_month
            and customer_concentration.customer_id = customer_ttm.customer_id
    left join customers_profiled
        on customer_concentration.customer_id = customers_profiled.customer_id
    left join customer_cross_sell
        on
            customer_concentration.as_of_month
            = customer_cross_sell.as_of_month
            and customer_concentration.customer_id
            = customer_cross_sell.customer_id
),

customer_margins_with_portfolio as (
    select
        *,
        sum(revenue_ttm) over (partition by as_of_month)
            as portfolio_revenue_ttm,
        sum(gross_margin_ttm) over (partition by as_of_month)
            as portfolio_gross_margin_ttm,
        sum({{ graded_margin }}) over (partition by as_of_month)
            as portfolio_graded_margin_ttm,
        sum({{ graded_revenue }}) over (partition by as_of_month)
            as portfolio_graded_revenue_ttm
    from customer_margins
),

-- Both axes compared in exact decimals, never through a rounded ratio.
customers_on_axes as (
    select
        *,
        -- The revenue of the customers ranked above is below the cut-off
        -- share: this customer still belongs to the set that reaches it.
        cumulative_revenue_ttm - revenue_ttm
        < {{ decimal_literal(large_share) }} * portfolio_revenue_ttm
            as is_large,
        -- The graded margin (var classification_margin_basis) against the
        -- cut-off on the same basis.
        {% if margin_cut_off == 'portfolio' -%}
        {{ graded_margin }} * portfolio_graded_revenue_ttm
        >= portfolio_graded_margin_ttm * {{ graded_revenue }}
            as is_high_margin,
        cast(portfolio_graded_margin_ttm as double)
        / cast(nullif(portfolio_graded_revenue_ttm, 0) as double)
            as margin_cut_off_pct,
        {%- else -%}
        {{ graded_margin }}
        >= {{ decimal_literal(margin_cut_off) }} * {{ graded_revenue }}
            as is_high_margin,
        cast({{ decimal_literal(margin_cut_off) }} as double)
            as margin_cut_off_pct,
        {%- endif %}
        {{ 'in_tcp' if a_requires_tcp else 'true' }}
        and {{ 'is_on_full_package' if a_requires_full_package else 'true' }}
            as is_eligible_for_a
    from customer_margins_with_portfolio
),

customers_classified as (
    select
        *,
        case
            when is_large and is_high_margin and is_eligible_for_a then 'A'
            when is_large then 'B'
            when is_high_margin then 'C'
            else 'D'
        end as classification
    from customers_on_axes
),

-- The action each class calls for is in the seed customer_classes.
customers_given_actions as (
    select
        customers_classified.*,
        customer_classes.recommended_action
    from customers_classified
    left join customer_classes
        on customers_classified.classification = customer_classes.classification
),

customer_classification as (
    select
        as_of_month,
        customer_id,
        customer_name,
        industry,
        employee_count,
        revenue_ttm,
        product_cost_ttm,
        labor_cost_ttm,
        cost_ttm,
        gross_margin_ttm,
        cast(gross_margin_ttm as double)
        / cast(revenue_ttm as double) as gross_margin_pct,
        cast(portfolio_gross_margin_ttm as double)
        / cast(portfolio_revenue_ttm as double) as portfolio_gross_margin_pct,
        margin_cut_off_pct,
        revenue_rank,
        cumulative_revenue_share,
        is_large,
        is_high_margin,
        in_tcp,
        is_on_full_package,
        is_eligible_for_a,
        classification,
        recommended_action
    from customers_given_actions
)

select * from customer_classification
