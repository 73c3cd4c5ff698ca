-- Churn-risk features: each active customer with MRR in a month, what the
-- churn model of orchestration/scoring knows of it then (MRR level and trend,
-- movements, margin, size, what it buys, tenure) and whether it churned in
-- the three months after. Every feature reads months up to as_of_month only;
-- the label reads the three months after it (see churn_month_within_3m).
-- A run rebuilds its months, the three before them (their labels read the
-- run's months) and every later month (their windows do): see
-- rebuilt_months. The windows read every month of mrr_movements.
{%- set rebuilt = {
    'months_rebuilt_before_run': 3,
    'months_rebuilt_after_run': 'all',
} %}
{{ config(meta=rebuilt) }}
with

mrr_movements as (
    select * from {{ ref('mrr_movements') }}
),

customer_classification as (
    select * from {{ ref('customer_classification') }}
    where {{ in_rebuilt_months('as_of_month', rebuilt) }}
),

customer_concentration as (
    select * from {{ ref('customer_concentration') }}
    where {{ in_rebuilt_months('as_of_month', rebuilt) }}
),

customer_cross_sell as (
    select * from {{ ref('customer_cross_sell') }}
    where {{ in_rebuilt_months('as_of_month', rebuilt) }}
),

-- A month number per customer (0 in its first MRR month), so that windows
-- of months are ranges of integers.
mrr_movements_numbered as (
    select
        *,
        {{ dbt.datediff('first_mrr_month', 'as_of_month', 'month') }}
            as month_number
    from mrr_movements
),

-- Each movement row against the customer's rows in the twelve months up to
-- it, in its history so far and in the three months after it.
mrr_movements_windowed as (
    select
        as_of_month,
        customer_id,
        mrr,
        count(case when movement = 'contraction' then 1 end) over (
            partition by customer_id order by month_number
            range between 11 preceding and current row
        ) as contractions_12m,
        count(case when movement = 'expansion' then 1 end) over (
            partition by customer_id order by month_number
            range between 11 preceding and current row
        ) as expansions_12m,
        max(
            case
                when movement in ('new', 'reactivation') then as_of_month
            end
        ) over (
            partition by customer_id order by month_number
            rows between unbounded preceding and current row
        ) as spell_start_month,
        min(case when movement = 'churn' then as_of_month end) over (
            partition by customer_id order by month_number
            range between 1 following and 3 following
        ) as churn_month_within_3m
    from mrr_movements_numbered
),

-- Only an active (classified) customer with MRR can have an MRR churn next.
customer_months_with_mrr as (
    select
        customer_classification.as_of_month,
        customer_classification.customer_id,
        customer_classification.customer_name,
        customer_classification.classification,
        customer_classification.gross_margin_pct,
        customer_classification.labor_cost_ttm,
        customer_classification.revenue_ttm,
        customer_classification.in_tcp,
        mrr_movements_windowed.mrr,
        mrr_movements_windowed.contractions_12m,
        mrr_movements_windowed.expansions_12m,
        mrr_movements_windowed.spell_start_month,
        mrr_movements_windowed.churn_month_within_3m
    from customer_classification
    inner join mrr_movements_windowed
        on
            customer_classification.as_of_month
            = mrr_movements_windowed.as_of_month
            and customer_classification.customer_id
            = mrr_movements_windowed.customer_id
    where mrr_movements_windowed.mrr > 0
),

customer_months_joined as (
    select
        customer_months_with_mrr.*,
        coalesce(mrr_3m.mrr, 0) as mrr_3m_ago,
        coalesce(mrr_6m.mrr, 0) as mrr_6m_ago,
        customer_concentration.revenue_share,
        customer_cross_sell.offerings_owned,
        customer_cross_sell.full_package_components_owned,
        customer_cross_sell.owns_legacy_offering,
        customer_cross_sell.is_on_full_package,
        customer_cross_sell.agreement_profile,
        {{ dbt.datediff(
            'customer_months_with_mrr.spell_start_month',
            'customer_months_with_mrr.as_of_month',
            'month'
        ) }} as tenure_months
    from customer_months_with_mrr
    left join mrr_movements as mrr_3m
        on
            customer_months_with_mrr.customer_id = mrr_3m.customer_id
            and mrr_3m.as_of_month = cast({{ dbt.dateadd(
                'month', -3, 'customer_months_with_mrr.as_of_month'
            ) }} as date)
    left join mrr_movements as mrr_6m
        on
            customer_months_with_mrr.customer_id = mrr_6m.customer_id
            and mrr_6m.as_of_month = cast({{ dbt.dateadd(
                'month', -6, 'customer_months_with_mrr.as_of_month'
            ) }} as date)
    left join customer_concentration
        on
            customer_months_with_mrr.as_of_month
            = customer_concentration.as_of_month
            and customer_months_with_mrr.customer_id
            = customer_concentration.customer_id
    left join customer_cross_sell
        on
            customer_months_with_mrr.as_of_month
            = customer_cross_sell.as_of_month
            and customer_months_with_mrr.customer_id
            = customer_cross_sell.customer_id
),

customer_months_featurised as (
    select
        as_of_month,
        customer_id,
        customer_name,
        cast({{ dbt.dateadd('month', 3, 'as_of_month') }} as date)
            as label_window_end_month,
        churn_month_within_3m,
        churn_month_within_3m is not null as churned_within_3m,
        cast(mrr as double) as mrr,
        ln(cast(mrr as double)) as log_mrr,
        case
            when mrr_3m_ago > 0
                then ln(cast(mrr as double) / cast(mrr_3m_ago as double))
            else 0
        end as mrr_log_change_3m,
        case
            when mrr_6m_ago > 0
                then ln(cast(mrr as double) / cast(mrr_6m_ago as double))
            else 0
        end as mrr_log_change_6m,
        cast(mrr_3m_ago > 0 as integer) as had_mrr_3m_ago,
        cast(mrr_6m_ago > 0 as integer) as had_mrr_6m_ago,
        contractions_12m,
        expansions_12m,
        greatest(-1.0, least(1.0, gross_margin_pct)) as gross_margin_pct,
        greatest(
            0.0, least(
                3.0,
                cast(labor_cost_ttm as double) / cast(revenue_ttm as double)
            )
        ) as labor_cost_share,
        ln(cast(revenue_ttm as double)) as log_revenue_ttm,
        coalesce(revenue_share, 0) as revenue_share,
        coalesce(offerings_owned, 0) as offerings_owned,
        coalesce(full_package_components_owned, 0)
            as full_package_components_owned,
        cast(coalesce(owns_legacy_offering, false) as integer)
            as owns_legacy_offering,
        cast(coalesce(is_on_full_package, false) as integer)
            as is_on_full_package,
        cast(coalesce(in_tcp, false) as integer) as in_tcp,
        tenure_months,
        ln(1 + tenure_months) as log_tenure_months,
        cast(tenure_months % 12 >= 9 as integer)
            as contract_year_ends_within_3m,
        classification,
        coalesce(agreement_profile, 'unknown') as agreement_profile
    from customer_months_joined
)

select * from customer_months_featurised
