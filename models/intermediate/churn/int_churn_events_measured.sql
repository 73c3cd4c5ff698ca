-- A table, not a view: churn_events and its tests read it (as a view, each
-- test recomputed the churn chain; 50 s a test at 100,000 customers).
{{ config(materialized='table') }}

-- The MRR each churn event took away: for a full churn the customer's MRR
-- at its last month-end before the effective month, for an offering
-- cancellation or a downgrade the line MRR it removed on the day.
with

churn_events as (
    select * from {{ ref('int_churn_events_unioned') }}
),

customer_mrr as (
    select * from {{ ref('int_customer_mrr_by_month') }}
),

agreement_lines as (
    select * from {{ ref('int_agreement_lines_normalised') }}
),

-- Full churns lose the customer's whole MRR of the month before the effective
-- month (its last month-end with MRR).
full_churn_mrr_lost as (
    select
        churn_events.churn_event_id,
        coalesce(customer_mrr.mrr, 0) as mrr_lost
    from churn_events
    left join customer_mrr
        on
            churn_events.customer_id = customer_mrr.customer_id
            and cast(
                {{ dbt.dateadd('month', -1, 'churn_events.effective_month') }}
                as date
            ) = customer_mrr.month_start
    where churn_events.event_type = 'full_churn'
),

-- Offering cancellations and downgrades are measured on the day: the line MRR
-- in force the day before the effective date (the offering's lines, or all
-- the customer's lines when the event names no offering), less for a
-- downgrade the line MRR in force on the effective date.
-- The join is on the customer alone and the offering is matched after it:
-- an "or" in the join condition made a nested-loop join (24 s at 100,000
-- customers; under a second as a hash join).
partial_churns_joined_to_lines as (
    select
        churn_events.churn_event_id,
        churn_events.event_type,
        churn_events.effective_date,
        agreement_lines.in_force_from_date,
        agreement_lines.in_force_until_date,
        case
            when
                churn_events.offering_id is null
                or churn_events.offering_id = agreement_lines.offering_id
                then agreement_lines.line_mrr
            else 0
        end as line_mrr
    from churn_events
    left join agreement_lines
        on churn_events.customer_id = agreement_lines.customer_id
    where churn_events.event_type in ('offering_cancel', 'downgrade')
),

partial_churn_mrr_compared as (
    select
        churn_event_id,
        event_type,
        coalesce(sum(
            case
                when
                    in_force_from_date < effective_date
                    and (
                        in_force_until_date is null
                        or in_force_until_date >= effective_date
                    )
                    then line_mrr
                else 0
            end
        ), 0) as mrr_before,
        coalesce(sum(
            case
                when
                    in_force_from_date <= effective_date
                    and (
                        in_force_until_date is null
                        or in_force_until_date > effective_date
                    )
                    then line_mrr
                else 0
            end
        ), 0) as mrr_after
    from partial_churns_joined_to_lines
    group by 1, 2
),

mrr_lost_unioned as (
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
    from partial_churn_mrr_compared
),

-- One row for every event, whatever its event_type.
churn_events_measured as (
    select
        churn_events.churn_event_id,
        cast(coalesce(mrr_lost_unioned.mrr_lost, 0) as decimal(38, 6))
            as mrr_lost
    from churn_events
    left join mrr_lost_unioned
        on churn_events.churn_event_id = mrr_lost_unioned.churn_event_id
)

select * from churn_events_measured
