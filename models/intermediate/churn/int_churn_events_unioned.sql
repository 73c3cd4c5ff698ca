-- Every churn event: the recorded ones, plus an `unrecorded` full churn for
-- every MRR churn that no recorded full churn explains, dated the day the
-- customer's MRR stopped.
-- A table, not a view: every model of the churn chain and a dozen tests read
-- it (as a view, each recomputed the MRR churns and agreement lines: 2-3 s a
-- reader at 100,000 customers).
{{ config(materialized='table') }}
with

recorded_churn_events as (
    select * from {{ ref('stg_landing__churn_events') }}
),

mrr_churns_matched as (
    select * from {{ ref('int_mrr_churns_matched') }}
),

agreement_lines as (
    select * from {{ ref('int_agreement_lines_normalised') }}
),

mrr_churns_unrecorded as (
    select
        churn_month,
        customer_id
    from mrr_churns_matched
    where not is_recorded
),

-- The day an unrecorded churn took effect: the latest exclusive end of the
-- customer's lines with MRR in force at the end of the month before.
unrecorded_churn_dates as (
    select
        mrr_churns_unrecorded.customer_id,
        mrr_churns_unrecorded.churn_month,
        max(agreement_lines.in_force_until_date) as effective_date
    from mrr_churns_unrecorded
    inner join agreement_lines
        on
            mrr_churns_unrecorded.customer_id = agreement_lines.customer_id
            and agreement_lines.line_mrr > 0
            and mrr_churns_unrecorded.churn_month
            > agreement_lines.in_force_from_date
            and agreement_lines.in_force_until_date
            between mrr_churns_unrecorded.churn_month
            and cast(
                {{ dbt.last_day('mrr_churns_unrecorded.churn_month', 'month') }}
                as date
            )
    group by 1, 2
),

unrecorded_churn_events as (
    select
        'unrecorded-'
        || mrr_churns_unrecorded.customer_id
        || '-'
        || {{ month_label('mrr_churns_unrecorded.churn_month') }}
            as churn_event_id,
        mrr_churns_unrecorded.customer_id,
        cast(null as string) as offering_id,
        'full_churn' as event_type,
        cast(null as date) as notice_date,
        coalesce(
            unrecorded_churn_dates.effective_date,
            mrr_churns_unrecorded.churn_month
        ) as effective_date,
        'unrecorded' as reason_code,
        cast(null as string) as initiated_by,
        cast(null as boolean) as was_flagged_at_risk,
        false as is_recorded
    from mrr_churns_unrecorded
    left join unrecorded_churn_dates
        on
            mrr_churns_unrecorded.customer_id
            = unrecorded_churn_dates.customer_id
            and mrr_churns_unrecorded.churn_month
            = unrecorded_churn_dates.churn_month
),

churn_events_unioned as (
    select
        churn_event_id,
        customer_id,
        offering_id,
        event_type,
        notice_date,
        effective_date,
        reason_code,
        initiated_by,
        was_flagged_at_risk,
        true as is_recorded
    from recorded_churn_events
    union all
    select * from unrecorded_churn_events
),

churn_events_dated as (
    select
        *,
        cast({{ dbt.date_trunc('month', 'effective_date') }} as date)
            as effective_month
    from churn_events_unioned
)

select * from churn_events_dated
