-- Every agreement with the first day it is no longer in force and why: its
-- scheduled end_date or a cancellation. The one rule the contract marts read
-- for "how does this agreement end".
with

agreements as (
    select * from {{ ref('stg_landing__agreements') }}
),

-- An agreement ends on the earlier of its end_date and its cancelled_date
-- (both exclusive). When both are set and equal, the end was scheduled:
-- the cancellation changes nothing.
agreement_ends_classified as (
    select
        agreement_id,
        customer_id,
        agreement_type,
        start_date,
        end_date,
        cancelled_date,
        case
            when cancelled_date is null then end_date
            when end_date is null then cancelled_date
            when cancelled_date < end_date then cancelled_date
            else end_date
        end as ends_on_date,
        case
            when cancelled_date is not null
                and (end_date is null or cancelled_date < end_date)
                then 'cancellation'
            when end_date is not null then 'scheduled_end'
        end as end_reason
    from agreements
)

select * from agreement_ends_classified
