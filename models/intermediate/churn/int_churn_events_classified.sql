-- Each churn event with the customer's A/B/C/D class at its last as_of_month
-- before the effective month: the month before it, unless the customer had
-- no TTM revenue then.
with

churn_events as (
    select * from {{ ref('int_churn_events_unioned') }}
),

customer_classification as (
    select * from {{ ref('customer_classification') }}
),

last_classified_months as (
    select
        churn_events.churn_event_id,
        churn_events.customer_id,
        max(customer_classification.as_of_month) as as_of_month
    from churn_events
    inner join customer_classification
        on
            churn_events.customer_id = customer_classification.customer_id
            and churn_events.effective_month
            > customer_classification.as_of_month
    group by 1, 2
),

-- Every event: one never classified before its effective month gets nulls.
churn_events_classified as (
    select
        churn_events.churn_event_id,
        customer_classification.classification as classification_at_churn,
        customer_classification.as_of_month as classification_as_of_month
    from churn_events
    left join last_classified_months
        on churn_events.churn_event_id = last_classified_months.churn_event_id
    left join customer_classification
        on
            last_classified_months.customer_id
            = customer_classification.customer_id
            and last_classified_months.as_of_month
            = customer_classification.as_of_month
)

select * from churn_events_classified
