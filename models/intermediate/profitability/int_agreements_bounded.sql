-- Every agreement with the date it stops being in force: the earlier of
-- end_date and cancelled_date (both exclusive; null = open-ended). An
-- agreement is in force on a day when start_date <= day < that date.
with

agreements as (
    select * from {{ ref('stg_landing__agreements') }}
),

agreements_bounded as (
    select
        agreement_id,
        customer_id,
        agreement_type,
        start_date,
        nullif(
            least(
                coalesce(end_date, date '9999-12-31'),
                coalesce(cancelled_date, date '9999-12-31')
            ),
            date '9999-12-31'
        ) as in_force_until_date
    from agreements
)

select * from agreements_bounded
