-- The renewal calendar: every agreement in force at the end of as_of_month
-- that stops being in force within the 90 days after it (its end_date or
-- its cancelled_date), with its MRR, the customer's class and TCP fit, and
-- a 30/60/90-day window, and the customer's churn risk scored for the month
-- (null when no run scored it). It reads a scoring table, so a Dagster run
-- builds it after the scoring assets.
with

months as (
    select * from {{ ref('int_mrr_months_spanned') }}
    where {{ in_partition('month_start') }}
),

agreement_ends as (
    select * from {{ ref('int_agreement_ends_classified') }}
),

agreement_line_ends as (
    select * from {{ ref('int_agreement_line_ends_classified') }}
),

customers_profiled as (
    select * from {{ ref('int_customers_profiled') }}
),

customer_classification as (
    select * from {{ ref('customer_classification') }}
    where {{ in_partition('as_of_month') }}
),

churn_risk_scores as (
    select * from {{ scoring_source('churn_risk_scores', {
        'as_of_month': 'date',
        'customer_id': dbt.type_string(),
        'churn_probability_3m': 'double',
        'risk_band': dbt.type_string(),
    }) }}
    where {{ in_partition('as_of_month') }}
),

-- In force on the month's last day and ending within the 90 days after it
-- (ends_on_date is exclusive: the agreement's last day is the day before).
agreements_ending_within_90_days as (
    select
        months.month_start as as_of_month,
        months.month_end,
        agreement_ends.agreement_id,
        agreement_ends.customer_id,
        agreement_ends.agreement_type,
        agreement_ends.start_date,
        agreement_ends.ends_on_date,
        agreement_ends.end_date,
        agreement_ends.cancelled_date,
        agreement_ends.end_reason
    from agreement_ends
    inner join months
        on
            agreement_ends.start_date <= months.month_end
            and agreement_ends.ends_on_date > months.month_end
            and agreement_ends.ends_on_date <= cast(
                {{ dbt.dateadd('day', 90, 'months.month_end') }} as date
            )
),

-- The agreement's MRR at as_of_month: its lines in force on the month's
-- last day (the month-end rule of MRR), of the agreements listed only.
agreement_mrr_summed as (
    select
        ending.as_of_month,
        ending.agreement_id,
        sum(agreement_line_ends.line_mrr) as agreement_mrr
    from agreements_ending_within_90_days as ending
    inner join agreement_line_ends
        on
            ending.agreement_id = agreement_line_ends.agreement_id
            and ending.month_end >= agreement_line_ends.in_force_from_date
            and coalesce(
                ending.month_end < agreement_line_ends.in_force_until_date,
                true
            )
    group by 1, 2
),

agreements_described as (
    select
        ending.as_of_month,
        ending.agreement_id,
        ending.customer_id,
        customers_profiled.customer_name,
        ending.agreement_type,
        ending.start_date,
        ending.ends_on_date as end_date,
        ending.end_date as scheduled_end_date,
        ending.cancelled_date,
        ending.end_reason,
        cast(
            {{ dbt.datediff('ending.month_end', 'ending.ends_on_date', 'day') }}
            as integer
        ) as days_to_end,
        ending.cancelled_date is not null as is_cancelled,
        cast(coalesce(agreement_mrr_summed.agreement_mrr, 0) as decimal(38, 6))
            as agreement_mrr,
        customer_classification.classification,
        coalesce(customers_profiled.in_tcp, false) as in_tcp,
        churn_risk_scores.churn_probability_3m,
        churn_risk_scores.risk_band
    from agreements_ending_within_90_days as ending
    left join agreement_mrr_summed
        on
            ending.as_of_month = agreement_mrr_summed.as_of_month
            and ending.agreement_id = agreement_mrr_summed.agreement_id
    left join customers_profiled
        on ending.customer_id = customers_profiled.customer_id
    left join customer_classification
        on
            ending.as_of_month = customer_classification.as_of_month
            and ending.customer_id = customer_classification.customer_id
    left join churn_risk_scores
        on
            ending.as_of_month = churn_risk_scores.as_of_month
            and ending.customer_id = churn_risk_scores.customer_id
),

renewal_windows_assigned as (
    select
        as_of_month,
        agreement_id,
        customer_id,
        customer_name,
        agreement_type,
        start_date,
        end_date,
        scheduled_end_date,
        cancelled_date,
        end_reason,
        days_to_end,
        case
            when days_to_end <= 30 then '30_days'
            when days_to_end <= 60 then '60_days'
            else '90_days'
        end as renewal_window,
        is_cancelled,
        agreement_mrr,
        classification,
        in_tcp,
        churn_probability_3m,
        risk_band
    from agreements_described
)

select * from renewal_windows_assigned
