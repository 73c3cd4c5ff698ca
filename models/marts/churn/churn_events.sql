-- Churn events: every recorded churn event, plus an `unrecorded` full churn
-- for every MRR churn that no recorded full churn explains, each with its
-- Lincoln Murphy quadrant and the MRR it lost.
-- Not a monthly snapshot: rebuilt whole on every run (a late-recorded event
-- can change which MRR churns are unrecorded in any month).
{{ config(materialized='table') }}

with

recorded_churn_events as (
    select * from {{ ref('stg_landing__churn_events') }}
),

mrr_movements as (
    select * from {{ ref('mrr_movements') }}
),

customer_mrr as (
    select * from {{ ref('int_customer_mrr_by_month') }}
),

agreement_lines as (
    select * from {{ ref('int_agreement_lines_normalised') }}
),

churn_reason_codes as (
    select * from {{ ref('churn_reason_codes') }}
),

customer_classification as (
    select * from {{ ref('customer_classification') }}
),

mrr_churns as (
    select * from mrr_movements
    where movement = 'churn'
),

recorded_full_churns as (
    select
        customer_id,
        cast({{ dbt.date_trunc('month', 'effective_date') }} as date)
            as effective_month
    from recorded_churn_events
    where event_type = 'full_churn'
),

-- An MRR churn is explained by a recorded full churn of the customer taking
-- effect in the churn month or the month before; the rest are unrecorded.
mrr_churns_unrecorded as (
    select mrr_churns.*
    from mrr_churns
    left join recorded_full_churns
        on
            mrr_churns.customer_id = recorded_full_churns.customer_id
            and recorded_full_churns.effective_month between cast(
                {{ dbt.dateadd('month', -1, 'mrr_churns.as_of_month') }} as date
            ) and mrr_churns.as_of_month
    where recorded_full_churns.customer_id is null
),

-- The day an unrecorded churn took effect: the latest exclusive end of the
-- customer's lines with MRR in force at the end of the month before.
unrecorded_churn_dates as (
    select
        mrr_churns_unrecorded.customer_id,
        mrr_churns_unrecorded.as_of_month,
        max(agreement_lines.in_force_until_date) as effective_date
    from mrr_churns_unrecorded
    inner join agreement_lines
        on
            mrr_churns_unrecorded.customer_id = agreement_lines.customer_id
            and agreement_lines.line_mrr > 0
            and mrr_churns_unrecorded.as_of_month
            > agreement_lines.in_force_from_date
            and agreement_lines.in_force_until_date
            between mrr_churns_unrecorded.as_of_month
            and cast(
                {{ dbt.last_day('mrr_churns_unrecorded.as_of_month', 'month') }}
                as date
            )
    group by 1, 2
),

unrecorded_churn_events as (
    select
        'unrecorded-'
        || mrr_churns_unrecorded.customer_id
        || '-'
        || strftime(mrr_churns_unrecorded.as_of_month, '%Y-%m')
            as churn_event_id,
        mrr_churns_unrecorded.customer_id,
        cast(null as varchar) as offering_id,
        'full_churn' as event_type,
        cast(null as date) as notice_date,
        coalesce(
            unrecorded_churn_dates.effective_date,
            mrr_churns_unrecorded.as_of_month
        ) as effective_date,
        'unrecorded' as reason_code,
        cast(null as varchar) as initiated_by,
        cast(null as boolean) as was_flagged_at_risk,
        false as is_recorded
    from mrr_churns_unrecorded
    left join unrecorded_churn_dates
        on
            mrr_churns_unrecorded.customer_id
            = unrecorded_churn_dates.customer_id
            and mrr_churns_unrecorded.as_of_month
            = unrecorded_churn_dates.as_of_month
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
            as effective_month,
        cast(
            {{ dbt.dateadd(
                'month', -1, dbt.date_trunc('month', 'effective_date')
            ) }} as date
        ) as month_before_effective
    from churn_events_unioned
),

-- Full churns lose the customer's whole MRR of the month before the effective
-- month (its last month-end with MRR).
full_churn_mrr_lost as (
    select
        churn_events_dated.churn_event_id,
        coalesce(customer_mrr.mrr, 0) as mrr_lost
    from churn_events_dated
    left join customer_mrr
        on
            churn_events_dated.customer_id = customer_mrr.customer_id
            and churn_events_dated.month_before_effective
            = customer_mrr.month_start
    where churn_events_dated.event_type = 'full_churn'
),

-- Offering cancellations and downgrades are measured on the day: the line MRR
-- in force the day before the effective date (the offering's lines, or all
-- the customer's lines when the event names no offering), less for a
-- downgrade the line MRR in force on the effective date.
partial_churn_mrr_lost as (
    select
        churn_events_dated.churn_event_id,
        churn_events_dated.event_type,
        coalesce(sum(
            case
                when
                    agreement_lines.in_force_from_date
                    < churn_events_dated.effective_date
                    and (
                        agreement_lines.in_force_until_date is null
                        or agreement_lines.in_force_until_date
                        >= churn_events_dated.effective_date
                    )
                    then agreement_lines.line_mrr
                else 0
            end
        ), 0) as mrr_before,
        coalesce(sum(
            case
                when
                    agreement_lines.in_force_from_date
                    <= churn_events_dated.effective_date
                    and (
                        agreement_lines.in_force_until_date is null
                        or agreement_lines.in_force_until_date
                        > churn_events_dated.effective_date
                    )
                    then agreement_lines.line_mrr
                else 0
            end
        ), 0) as mrr_after
    from churn_events_dated
    left join agreement_lines
        on
            churn_events_dated.customer_id = agreement_lines.customer_id
            and (
                churn_events_dated.offering_id is null
                or churn_events_dated.offering_id = agreement_lines.offering_id
            )
    where churn_events_dated.event_type in ('offering_cancel', 'downgrade')
    group by 1, 2
),

mrr_lost_by_event as (
    select
        churn_event_id,
        mrr_lost
    from full_churn_mrr_lost
    union all
    select
        churn_event_id,
        case
            when event_type = 'offering_cancel' then greatest(mrr_before, 0)
            else greatest(mrr_before - mrr_after, 0)
        end as mrr_lost
    from partial_churn_mrr_lost
),

-- The customer's class at its last as_of_month before the effective month
-- (the month before it, unless the customer had no TTM revenue then).
last_classified_months as (
    select
        churn_events_dated.churn_event_id,
        churn_events_dated.customer_id,
        max(customer_classification.as_of_month) as as_of_month
    from churn_events_dated
    inner join customer_classification
        on
            churn_events_dated.customer_id = customer_classification.customer_id
            and churn_events_dated.effective_month
            > customer_classification.as_of_month
    group by 1, 2
),

classifications_at_churn as (
    select
        last_classified_months.churn_event_id,
        last_classified_months.as_of_month,
        customer_classification.classification
    from last_classified_months
    inner join customer_classification
        on
            last_classified_months.customer_id
            = customer_classification.customer_id
            and last_classified_months.as_of_month
            = customer_classification.as_of_month
),

churn_events_joined_to_reasons as (
    select
        churn_events_dated.churn_event_id,
        churn_events_dated.customer_id,
        churn_events_dated.offering_id,
        churn_events_dated.event_type,
        churn_events_dated.is_recorded,
        churn_events_dated.reason_code,
        churn_reason_codes.reason_label,
        churn_reason_codes.is_avoidable,
        churn_reason_codes.is_voluntary,
        churn_events_dated.was_flagged_at_risk,
        coalesce(churn_events_dated.was_flagged_at_risk, false) as is_expected,
        churn_reason_codes.reason_code is not null as is_reason_known,
        churn_events_dated.initiated_by,
        churn_events_dated.notice_date,
        churn_events_dated.effective_date,
        churn_events_dated.effective_month,
        cast(coalesce(mrr_lost_by_event.mrr_lost, 0) as decimal(38, 6))
            as mrr_lost,
        classifications_at_churn.classification as classification_at_churn,
        classifications_at_churn.as_of_month as classification_as_of_month
    from churn_events_dated
    left join churn_reason_codes
        on churn_events_dated.reason_code = churn_reason_codes.reason_code
    left join mrr_lost_by_event
        on churn_events_dated.churn_event_id = mrr_lost_by_event.churn_event_id
    left join classifications_at_churn
        on
            churn_events_dated.churn_event_id
            = classifications_at_churn.churn_event_id
),

churn_events_classified as (
    select
        churn_event_id,
        customer_id,
        offering_id,
        event_type,
        is_recorded,
        reason_code,
        reason_label,
        is_avoidable,
        is_voluntary,
        was_flagged_at_risk,
        is_expected,
        case
            when not is_reason_known then 'unclassified'
            when is_expected and is_avoidable then 'E&A'
            when is_expected then 'E&U'
            when is_avoidable then 'U&A'
            else 'U&U'
        end as churn_quadrant,
        initiated_by,
        notice_date,
        effective_date,
        effective_month,
        mrr_lost,
        classification_at_churn,
        classification_as_of_month
    from churn_events_joined_to_reasons
)

select * from churn_events_classified
