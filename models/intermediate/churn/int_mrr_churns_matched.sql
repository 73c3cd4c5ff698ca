-- MRR churns matched to recorded churn events: every `churn` movement of
-- mrr_movements, with the number of recorded full churns of the customer
-- that explain it. One that none explains becomes an `unrecorded` churn
-- event (int_churn_events_unioned). When lost MRR is recognised at the
-- notice (var churn_recognition: notice), the MRR churn falls in the
-- notice's month, so an event also explains it by its notice month.
{%- set by_notice = var('churn_recognition') == 'notice' %}
with

mrr_movements as (
    select * from {{ ref('mrr_movements') }}
),

recorded_churn_events as (
    select * from {{ ref('stg_landing__churn_events') }}
),

mrr_churns as (
    select
        as_of_month as churn_month,
        customer_id
    from mrr_movements
    where movement = 'churn'
),

recorded_full_churns as (
    select
        customer_id,
        cast({{ dbt.date_trunc('month', 'effective_date') }} as date)
            as effective_month,
        cast({{ dbt.date_trunc('month', 'notice_date') }} as date)
            as notice_month
    from recorded_churn_events
    where event_type = 'full_churn'
),

-- A recorded full churn of the customer taking effect (or, recognised at
-- the notice, noticed) in the churn month or the month before explains the
-- MRR churn.
mrr_churns_matched as (
    select
        mrr_churns.churn_month,
        mrr_churns.customer_id,
        count(recorded_full_churns.customer_id)
            as recorded_full_churns_matched,
        count(recorded_full_churns.customer_id) > 0 as is_recorded
    from mrr_churns
    left join recorded_full_churns
        on
            mrr_churns.customer_id = recorded_full_churns.customer_id
            and (
                recorded_full_churns.effective_month between cast(
                    {{ dbt.dateadd('month', -1, 'mrr_churns.churn_month') }}
                    as date
                ) and mrr_churns.churn_month
                {%- if by_notice %}
                or recorded_full_churns.notice_month between cast(
                    {{ dbt.dateadd('month', -1, 'mrr_churns.churn_month') }}
                    as date
                ) and mrr_churns.churn_month
                {%- endif %}
            )
    group by 1, 2
)

select * from mrr_churns_matched
