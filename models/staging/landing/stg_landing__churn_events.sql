-- The accepted rows of the landing table, typed. Rows failing a check
-- are in audit.rejected_rows instead (see base_landing__churn_events).
with

validated as (
    select * from {{ ref('base_landing__churn_events') }}
),

accepted as (
    select
        churn_event_id,
        customer_id,
        offering_id,
        event_type,
        notice_date,
        effective_date,
        reason_code,
        initiated_by,
        was_flagged_at_risk
    from validated
    where rejection_reason is null
)

select * from accepted
