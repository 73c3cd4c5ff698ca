-- Churn events: every recorded churn event, plus an `unrecorded` full churn
-- for every MRR churn that no recorded full churn explains, each with its
-- Lincoln Murphy quadrant and the MRR it lost.
-- Not a monthly snapshot: rebuilt whole on every run (a late-recorded event
-- can change which MRR churns are unrecorded in any month).
{{ config(materialized='table', partition_by=none) }}

with

churn_events_coded as (
    select * from {{ ref('int_churn_events_coded') }}
),

churn_events_measured as (
    select * from {{ ref('int_churn_events_measured') }}
),

churn_events_classified as (
    select * from {{ ref('int_churn_events_classified') }}
),

customers as (
    select * from {{ ref('stg_landing__customers') }}
),

churn_events_joined as (
    select
        churn_events_coded.churn_event_id,
        churn_events_coded.customer_id,
        customers.customer_name,
        churn_events_coded.offering_id,
        churn_events_coded.event_type,
        churn_events_coded.is_recorded,
        churn_events_coded.reason_code,
        churn_events_coded.reason_label,
        churn_events_coded.is_avoidable,
        churn_events_coded.is_voluntary,
        churn_events_coded.was_flagged_at_risk,
        churn_events_coded.is_expected,
        churn_events_coded.churn_quadrant,
        churn_events_coded.initiated_by,
        churn_events_coded.notice_date,
        churn_events_coded.effective_date,
        churn_events_coded.effective_month,
        churn_events_measured.mrr_lost,
        churn_events_classified.classification_at_churn,
        churn_events_classified.classification_as_of_month
    from churn_events_coded
    left join churn_events_measured
        on
            churn_events_coded.churn_event_id
            = churn_events_measured.churn_event_id
    left join churn_events_classified
        on
            churn_events_coded.churn_event_id
            = churn_events_classified.churn_event_id
    left join customers
        on churn_events_coded.customer_id = customers.customer_id
)

select * from churn_events_joined
