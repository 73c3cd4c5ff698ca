-- The account manager's quarterly work list (Part C turned into actions):
-- every active customer with its class and movement, fit, profitability,
-- churn risk and its drivers, next renewal and best cross-sell, given an
-- action and a priority within its account manager's book. The rule is the
-- docs block account_plan_priority. Built after the scoring assets (it
-- reads scores): a month no run scored has no churn risk or cross-sell.
{%- set at_risk_bands = text_list_var('account_plan_at_risk_bands') %}
-- The margin gap is on the margin the classification grades (var
-- classification_margin_basis): total, or service only.
{%- set service_basis = (
    var('classification_margin_basis') | string | lower == 'service'
) %}
{%- set graded_margin = (
    'service_margin_ttm' if service_basis else 'gross_margin_ttm'
) %}
{%- set graded_revenue = (
    'revenue_service_ttm' if service_basis else 'revenue_ttm'
) %}
{%- set string_type = dbt.type_string() %}
with

customer_classification as (
    select * from {{ ref('customer_classification') }}
    where {{ in_partition('as_of_month') }}
),

-- The latest quarter-end transition up to each month is the class movement
-- an account manager reviews that quarter.
classification_transitions as (
    select * from {{ ref('classification_transitions') }}
),

customer_profitability as (
    select * from {{ ref('customer_profitability') }}
    where {{ in_partition('as_of_month') }}
),

customer_cross_sell as (
    select * from {{ ref('customer_cross_sell') }}
    where {{ in_partition('as_of_month') }}
),

renewal_calendar as (
    select * from {{ ref('renewal_calendar') }}
    where {{ in_partition('as_of_month') }}
),

customers as (
    select * from {{ ref('stg_landing__customers') }}
),

offerings as (
    select * from {{ ref('stg_landing__offerings') }}
),

churn_risk_scores as (
    select * from {{ scoring_source('churn_risk_scores', {
        'as_of_month': 'date',
        'customer_id': string_type,
        'churn_probability_3m': 'double',
        'risk_band': string_type,
    }) }}
    where {{ in_partition('as_of_month') }}
),

churn_risk_drivers as (
    select * from {{ scoring_source('churn_risk_drivers', {
        'as_of_month': 'date',
        'customer_id': string_type,
        'driver_rank': dbt.type_int(),
        'feature_label': string_type,
        'contribution': 'double',
    }) }}
    where {{ in_partition('as_of_month') }}
),

cross_sell_recommendations as (
    select * from {{ scoring_source('cross_sell_recommendations', {
        'as_of_month': 'date',
        'customer_id': string_type,
        'offering_id': string_type,
        'rank': dbt.type_int(),
        'propensity': 'double',
        'expected_revenue': 'double',
    }) }}
    where {{ in_partition('as_of_month') }}
),

latest_transitions as (
    select
        customer_classification.as_of_month,
        customer_classification.customer_id,
        max(classification_transitions.quarter_end_month)
            as quarter_end_month
    from customer_classification
    inner join classification_transitions
        on
            customer_classification.customer_id
            = classification_transitions.customer_id
            and customer_classification.as_of_month
            >= classification_transitions.quarter_end_month
    group by 1, 2
),

transitions_by_month as (
    select
        latest_transitions.as_of_month,
        latest_transitions.customer_id,
        latest_transitions.quarter_end_month as movement_quarter_end_month,
        classification_transitions.previous_classification,
        classification_transitions.transition as class_movement
    from latest_transitions
    inner join classification_transitions
        on
            latest_transitions.customer_id
            = classification_transitions.customer_id
            and latest_transitions.quarter_end_month
            = classification_transitions.quarter_end_month
),

-- The customer's agreement ending first within the renewal window.
next_renewals as (
    select
        as_of_month,
        customer_id,
        agreement_id as next_renewal_agreement_id,
        end_date as next_renewal_date,
        agreement_mrr as next_renewal_mrr
    from (
        select
            *,
            row_number() over (
                partition by as_of_month, customer_id
                order by end_date, agreement_id
            ) as renewal_order
        from renewal_calendar
    ) as ordered_renewals
    where renewal_order = 1
),

drivers_pivoted as (
    select
        as_of_month,
        customer_id,
        max(case when driver_rank = 1 then feature_label end)
            as churn_driver_1,
        max(case when driver_rank = 1 then contribution end)
            as churn_driver_1_contribution,
        max(case when driver_rank = 2 then feature_label end)
            as churn_driver_2,
        max(case when driver_rank = 2 then contribution end)
            as churn_driver_2_contribution,
        max(case when driver_rank = 3 then feature_label end)
            as churn_driver_3,
        max(case when driver_rank = 3 then contribution end)
            as churn_driver_3_contribution
    from churn_risk_drivers
    group by 1, 2
),

top_cross_sells as (
    select
        cross_sell_recommendations.as_of_month,
        cross_sell_recommendations.customer_id,
        cross_sell_recommendations.offering_id as top_cross_sell_offering_id,
        offerings.offering_name as top_cross_sell_offering_name,
        cast(
            round(cross_sell_recommendations.expected_revenue, 2)
            as decimal(38, 2)
        ) as top_cross_sell_expected_revenue
    from cross_sell_recommendations
    left join offerings
        on cross_sell_recommendations.offering_id = offerings.offering_id
    where cross_sell_recommendations.rank = 1  -- noqa: RF04
),

customers_joined as (
    select
        customer_classification.as_of_month,
        customer_classification.customer_id,
        customer_classification.customer_name,
        coalesce(customers.account_manager, 'unassigned') as account_manager,
        customer_classification.classification,
        transitions_by_month.previous_classification,
        transitions_by_month.class_movement,
        transitions_by_month.movement_quarter_end_month,
        customer_classification.in_tcp,
        customer_classification.is_on_full_package,
        customer_classification.revenue_ttm,
        customer_classification.gross_margin_ttm,
        customer_classification.gross_margin_pct,
        customer_classification.margin_cut_off_pct,
        customer_profitability.revenue_service_ttm,
        customer_profitability.service_margin_ttm,
        customer_profitability.service_margin_pct,
        customer_profitability.effective_hourly_rate,
        customer_cross_sell.whitespace_revenue,
        churn_risk_scores.churn_probability_3m,
        churn_risk_scores.risk_band,
        coalesce(
            churn_risk_scores.risk_band in (
                {%- for band in at_risk_bands %}
                '{{ band }}'{{ ',' if not loop.last }}
                {%- endfor %}
            ),
            false
        ) as is_at_risk,
        drivers_pivoted.churn_driver_1,
        drivers_pivoted.churn_driver_1_contribution,
        drivers_pivoted.churn_driver_2,
        drivers_pivoted.churn_driver_2_contribution,
        drivers_pivoted.churn_driver_3,
        drivers_pivoted.churn_driver_3_contribution,
        next_renewals.next_renewal_agreement_id,
        next_renewals.next_renewal_date,
        next_renewals.next_renewal_mrr,
        top_cross_sells.top_cross_sell_offering_id,
        top_cross_sells.top_cross_sell_offering_name,
        top_cross_sells.top_cross_sell_expected_revenue
    from customer_classification
    left join customers
        on customer_classification.customer_id = customers.customer_id
    left join transitions_by_month
        on
            customer_classification.as_of_month
            = transitions_by_month.as_of_month
            and customer_classification.customer_id
            = transitions_by_month.customer_id
    left join customer_profitability
        on
            customer_classification.as_of_month
            = customer_profitability.as_of_month
            and customer_classification.customer_id
            = customer_profitability.customer_id
    left join customer_cross_sell
        on
            customer_classification.as_of_month
            = customer_cross_sell.as_of_month
            and customer_classification.customer_id
            = customer_cross_sell.customer_id
    left join churn_risk_scores
        on
            customer_classification.as_of_month
            = churn_risk_scores.as_of_month
            and customer_classification.customer_id
            = churn_risk_scores.customer_id
    left join drivers_pivoted
        on
            customer_classification.as_of_month = drivers_pivoted.as_of_month
            and customer_classification.customer_id
            = drivers_pivoted.customer_id
    left join next_renewals
        on
            customer_classification.as_of_month = next_renewals.as_of_month
            and customer_classification.customer_id
            = next_renewals.customer_id
    left join top_cross_sells
        on
            customer_classification.as_of_month = top_cross_sells.as_of_month
            and customer_classification.customer_id
            = top_cross_sells.customer_id
),

-- The tier, the action and the money that ranks customers within a tier
-- (docs block account_plan_priority).
customers_prioritised as (
    select
        *,
        case
            when classification = 'A' and is_at_risk then 1
            when classification = 'B' then 2
            when classification = 'C' then 3
            when classification = 'D' then 4
            else 5
        end as priority_tier,
        case
            when classification = 'A' and is_at_risk then 'protect'
            when classification = 'B' then 'upgrade_or_reprice'
            when classification = 'C' then 'cross_sell'
            when classification = 'D' and in_tcp
                then 'upgrade_to_full_package'
            when classification = 'D' then 'reprice_or_let_go'
            else 'confirm_package'
        end as next_action,
        -- Margin (money) the customer lacks to reach the margin cut-off.
        greatest(
            cast(margin_cut_off_pct as double)
            * cast({{ graded_revenue }} as double)
            - cast({{ graded_margin }} as double),
            0
        ) as margin_gap
    from customers_joined
),

customers_valued as (
    select
        *,
        case priority_tier
            when 1 then churn_probability_3m * cast(revenue_ttm as double)
            when 3
                then
                    coalesce(
                        cast(top_cross_sell_expected_revenue as double), 0
                    )
            when 5 then cast(revenue_ttm as double)
            else margin_gap
        end as unrounded_priority_value
    from customers_prioritised
),

customers_valued_in_cents as (
    select
        *,
        cast(round(unrounded_priority_value, 2) as decimal(38, 2))
            as priority_value
    from customers_valued
),

customers_ranked as (
    select
        *,
        cast(row_number() over (
            partition by as_of_month, account_manager
            order by
                priority_tier asc,
                priority_value desc,
                whitespace_revenue desc,
                revenue_ttm desc,
                customer_id asc
        ) as bigint) as priority_rank
    from customers_valued_in_cents
),

account_plan as (
    select
        as_of_month,
        account_manager,
        priority_rank,
        customer_id,
        customer_name,
        priority_tier,
        next_action,
        cast(priority_value as decimal(38, 2)) as priority_value,
        classification,
        previous_classification,
        class_movement,
        movement_quarter_end_month,
        in_tcp,
        is_on_full_package,
        revenue_ttm,
        gross_margin_ttm,
        gross_margin_pct,
        cast(round(margin_gap, 2) as decimal(38, 2)) as margin_gap,
        service_margin_pct,
        effective_hourly_rate,
        churn_probability_3m,
        risk_band,
        is_at_risk,
        churn_driver_1,
        churn_driver_1_contribution,
        churn_driver_2,
        churn_driver_2_contribution,
        churn_driver_3,
        churn_driver_3_contribution,
        next_renewal_agreement_id,
        next_renewal_date,
        next_renewal_mrr,
        top_cross_sell_offering_id,
        top_cross_sell_offering_name,
        top_cross_sell_expected_revenue,
        whitespace_revenue
    from customers_ranked
)

select * from account_plan
