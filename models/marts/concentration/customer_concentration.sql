-- Part A, per customer: each active customer's TTM revenue, its split, its
-- rank and its place on the portfolio's Pareto curve, for every as_of_month.
with

customer_ttm as (
    select * from {{ ref('int_customer_ttm_rolled_up') }}
    where is_active and {{ in_partition('as_of_month') }}
),

customers as (
    select * from {{ ref('stg_landing__customers') }}
),

customer_ttm_ranked as (
    select
        *,
        cast(row_number() over (
            partition by as_of_month
            order by revenue_ttm desc, customer_id asc
        ) as bigint) as revenue_rank,
        count(*) over (partition by as_of_month) as active_customers,
        sum(revenue_ttm) over (partition by as_of_month)
            as portfolio_revenue_ttm,
        -- Exact decimal running total; shares are divided once from it so
        -- that no floating-point error accumulates along the ranks.
        sum(revenue_ttm) over (
            partition by as_of_month
            order by revenue_ttm desc, customer_id asc
            rows between unbounded preceding and current row
        ) as cumulative_revenue_ttm
    from customer_ttm
),

customer_shares as (
    select
        customer_ttm_ranked.as_of_month,
        customer_ttm_ranked.customer_id,
        customers.customer_name,
        customer_ttm_ranked.revenue_ttm,
        customer_ttm_ranked.revenue_service_ttm,
        {%- for revenue_type in revenue_types() %}
        customer_ttm_ranked.revenue_{{ revenue_type }}_ttm,
        {%- endfor %}
        customer_ttm_ranked.revenue_rank,
        cast(customer_ttm_ranked.revenue_ttm as double)
        / cast(customer_ttm_ranked.portfolio_revenue_ttm as double)
            as revenue_share,
        customer_ttm_ranked.cumulative_revenue_ttm,
        cast(customer_ttm_ranked.cumulative_revenue_ttm as double)
        / cast(customer_ttm_ranked.portfolio_revenue_ttm as double)
            as cumulative_revenue_share,
        cast(customer_ttm_ranked.revenue_rank as double)
        / customer_ttm_ranked.active_customers as cumulative_customer_share,
        -- Inside the smallest set of top customers that reaches 80 % of
        -- revenue: everything ranked above reaches less than 80 %.
        (
            customer_ttm_ranked.cumulative_revenue_ttm
            - customer_ttm_ranked.revenue_ttm
        )
        < 0.8 * customer_ttm_ranked.portfolio_revenue_ttm
            as is_in_pareto_80_head,
        customer_ttm_ranked.revenue_ttm
        > {{ fraction_var('concentration_warning_top1_share') }}
        * customer_ttm_ranked.portfolio_revenue_ttm as is_concentration_risk
    from customer_ttm_ranked
    left join customers
        on customer_ttm_ranked.customer_id = customers.customer_id
)

select * from customer_shares
