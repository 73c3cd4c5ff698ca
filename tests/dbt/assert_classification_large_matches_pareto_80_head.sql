-- With the default revenue cut-off (0.80), is_large is exactly the Pareto 80
-- head of customer_concentration: revenue_rank <= pareto_80_customer_count.
-- Returns the customer months where it is not (none when the var is
-- changed, as the two then differ by design).
{%- set large_share = fraction_var('classification_large_revenue_share') %}
with

customer_classification as (
    select * from {{ ref('customer_classification') }}
),

portfolio_concentration as (
    select * from {{ ref('portfolio_concentration') }}
),

customers_compared as (
    select
        customer_classification.as_of_month,
        customer_classification.customer_id,
        customer_classification.revenue_rank,
        customer_classification.is_large,
        portfolio_concentration.pareto_80_customer_count
    from customer_classification
    inner join portfolio_concentration
        on
            customer_classification.as_of_month
            = portfolio_concentration.as_of_month
)

select * from customers_compared
where
    {{ 'true' if large_share == 0.8 else 'false' }}
    and is_large != (revenue_rank <= pareto_80_customer_count)
