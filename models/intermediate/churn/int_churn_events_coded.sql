-- Each churn event coded with its reason from the churn_reason_codes seed
-- and its Lincoln Murphy quadrant: expected or unexpected (flagged at risk
-- or not) × avoidable or unavoidable (the reason's is_avoidable).
with

churn_events as (
    select * from {{ ref('int_churn_events_unioned') }}
),

churn_reason_codes as (
    select * from {{ ref('churn_reason_codes') }}
),

churn_events_joined_to_reasons as (
    select
        churn_events.churn_event_id,
        churn_events.customer_id,
        churn_events.offering_id,
        churn_events.event_type,
        churn_events.is_recorded,
        churn_events.reason_code,
        churn_reason_codes.reason_label,
        churn_reason_codes.is_avoidable,
        churn_reason_codes.is_voluntary,
        churn_events.was_flagged_at_risk,
        coalesce(churn_events.was_flagged_at_risk, false) as is_expected,
        churn_reason_codes.reason_code is not null as is_reason_known,
        churn_events.initiated_by,
        churn_events.notice_date,
        churn_events.effective_date,
        churn_events.effective_month
    from churn_events
    left join churn_reason_codes
        on churn_events.reason_code = churn_reason_codes.reason_code
),

-- A reason missing from the seed (`unrecorded` among them) is never guessed
-- avoidable or not: the event is kept, unclassified.
churn_events_coded as (
    select
        *,
        case
            when not is_reason_known then 'unclassified'
            when is_expected and is_avoidable then 'E&A'
            when is_expected then 'E&U'
            when is_avoidable then 'U&A'
            else 'U&U'
        end as churn_quadrant
    from churn_events_joined_to_reasons
)

select * from churn_events_coded
