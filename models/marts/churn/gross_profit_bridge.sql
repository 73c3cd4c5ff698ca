-- The MRR bridge restated in gross profit: each customer's monthly recurring
-- gross profit is its MRR times its service margin rate, and each
-- customer's change is booked under its MRR movement of the month.
with

months as (
    select * from {{ ref('int_mrr_months_spanned') }}
    where {{ in_partition('month_start') }}
),

mrr_movements as (
    select * from {{ ref('mrr_movements') }}
    where {{ in_partition('as_of_month') }}
),

customer_mrr as (
    select * from {{ ref('int_customer_mrr_by_month') }}
    where {{ in_partition('month_start', months_before=1) }}
),

customer_profitability as (
    select * from {{ ref('customer_profitability') }}
    where {{ in_partition('as_of_month', months_before=1) }}
),

retention_summary as (
    select * from {{ ref('retention_summary') }}
    where {{ in_partition('as_of_month') }}
),

-- A customer's own service margin rate needs service revenue in its window.
customer_margin_rates as (
    select
        as_of_month,
        customer_id,
        cast(service_margin_ttm as double)
        / cast(revenue_service_ttm as double) as margin_rate
    from customer_profitability
    where revenue_service_ttm > 0
),

-- The portfolio's service margin rate over every active customer.
portfolio_margin_rates as (
    select
        as_of_month,
        cast(sum(service_margin_ttm) as double)
        / cast(sum(revenue_service_ttm) as double) as margin_rate
    from customer_profitability
    group by 1
    having sum(revenue_service_ttm) > 0
),

-- The product is rounded to the money scale once per customer and month,
-- so every sum below is an exact decimal sum and the bridge closes exactly.
customer_gross_profit_computed as (
    select
        customer_mrr.month_start,
        customer_mrr.customer_id,
        cast(
            round(
                cast(customer_mrr.mrr as double)
                * coalesce(
                    customer_margin_rates.margin_rate,
                    portfolio_margin_rates.margin_rate,
                    0
                ),
                6
            ) as decimal(38, 6)
        ) as gross_profit
    from customer_mrr
    left join customer_margin_rates
        on
            customer_mrr.month_start = customer_margin_rates.as_of_month
            and customer_mrr.customer_id = customer_margin_rates.customer_id
    left join portfolio_margin_rates
        on customer_mrr.month_start = portfolio_margin_rates.as_of_month
),

movements_joined_to_gross_profit as (
    select
        mrr_movements.as_of_month,
        mrr_movements.customer_id,
        mrr_movements.movement,
        mrr_movements.previous_mrr,
        coalesce(this_month.gross_profit, 0) as gross_profit,
        coalesce(previous_month.gross_profit, 0) as previous_gross_profit
    from mrr_movements
    left join customer_gross_profit_computed as this_month
        on
            mrr_movements.as_of_month = this_month.month_start
            and mrr_movements.customer_id = this_month.customer_id
    left join customer_gross_profit_computed as previous_month
        on
            mrr_movements.customer_id = previous_month.customer_id
            and previous_month.month_start = cast(
                {{ dbt.dateadd('month', -1, 'mrr_movements.as_of_month') }}
                as date
            )
),

movements_summed as (
    select
        as_of_month,
        sum(previous_gross_profit) as starting_gross_profit,
        sum(case when movement = 'new' then gross_profit else 0 end)
            as new_gross_profit,
        sum(
            case
                when movement = 'expansion'
                    then gross_profit - previous_gross_profit
                else 0
            end
        ) as expansion_gross_profit,
        sum(
            case
                when movement = 'contraction'
                    then previous_gross_profit - gross_profit
                else 0
            end
        ) as contraction_gross_profit,
        sum(case when movement = 'churn' then previous_gross_profit else 0 end)
            as churned_gross_profit,
        sum(case when movement = 'reactivation' then gross_profit else 0 end)
            as reactivation_gross_profit,
        sum(
            case
                when movement = 'unchanged'
                    then gross_profit - previous_gross_profit
                else 0
            end
        ) as margin_change,
        sum(gross_profit) as ending_gross_profit,
        -- The customers with MRR at the start, now and capped at then.
        sum(case when previous_mrr > 0 then gross_profit else 0 end)
            as retained_gross_profit,
        sum(
            case
                when previous_mrr > 0
                    then least(gross_profit, previous_gross_profit)
                else 0
            end
        ) as retained_capped_gross_profit
    from movements_joined_to_gross_profit
    group by 1
),

bridge_by_month as (
    select
        months.month_start as as_of_month,
        {%- for column in [
            'starting_gross_profit',
            'new_gross_profit',
            'expansion_gross_profit',
            'contraction_gross_profit',
            'churned_gross_profit',
            'reactivation_gross_profit',
            'margin_change',
            'ending_gross_profit',
            'retained_gross_profit',
            'retained_capped_gross_profit',
        ] %}
        cast(coalesce(movements_summed.{{ column }}, 0) as decimal(38, 6))
            as {{ column }},
        {%- endfor %}
        retention_summary.nrr,
        retention_summary.grr
    from months
    left join movements_summed
        on months.month_start = movements_summed.as_of_month
    left join retention_summary
        on months.month_start = retention_summary.as_of_month
),

-- Gross-profit retention over a non-positive base is meaningless: null.
gross_profit_rates_computed as (
    select
        as_of_month,
        starting_gross_profit,
        new_gross_profit,
        expansion_gross_profit,
        contraction_gross_profit,
        churned_gross_profit,
        reactivation_gross_profit,
        margin_change,
        ending_gross_profit,
        retained_gross_profit,
        retained_capped_gross_profit,
        case
            when starting_gross_profit > 0
                then
                    cast(retained_gross_profit as double)
                    / cast(starting_gross_profit as double)
        end as gross_profit_nrr,
        case
            when starting_gross_profit > 0
                then
                    cast(retained_capped_gross_profit as double)
                    / cast(starting_gross_profit as double)
        end as gross_profit_grr,
        nrr,
        grr
    from bridge_by_month
)

select * from gross_profit_rates_computed
