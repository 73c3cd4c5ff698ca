-- Every MRR churn has a full_churn event in churn_events: a recorded one
-- taking effect in the churn month or the month before, or the unrecorded
-- event made for it, whose effective date must fall in the churn month.
with

mrr_movements as (
    select * from {{ ref('mrr_movements') }}
),

churn_events as (
    select * from {{ ref('churn_events') }}
),

mrr_churns as (
    select
        as_of_month as churn_month,
        customer_id,
        cast({{ dbt.dateadd('month', -1, 'as_of_month') }} as date)
            as month_before_churn
    from mrr_movements
    where movement = 'churn'
),

full_churns as (
    select
        customer_id,
        effective_month,
        is_recorded
    from churn_events
    where event_type = 'full_churn'
),

mrr_churns_joined_to_full_churns as (
    select
        mrr_churns.churn_month,
        mrr_churns.customer_id,
        count(full_churns.customer_id) as explaining_events
    from mrr_churns
    left join full_churns
        on
            mrr_churns.customer_id = full_churns.customer_id
            and (
                mrr_churns.churn_month = full_churns.effective_month
                or (
                    mrr_churns.month_before_churn = full_churns.effective_month
                    and full_churns.is_recorded
                )
            )
    group by 1, 2
)

select * from mrr_churns_joined_to_full_churns
where explaining_events = 0
