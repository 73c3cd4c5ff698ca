with

source as (
    select * from {{ source('landing', 'churn_events') }}
),

renamed as (
    select
        cast(churn_event_id as varchar) as churn_event_id,
        cast(customer_id as varchar) as customer_id,
        cast(offering_id as varchar) as offering_id,
        cast(event_type as varchar) as event_type,
        cast(notice_date as date) as notice_date,
        cast(effective_date as date) as effective_date,
        cast(reason_code as varchar) as reason_code,
        cast(initiated_by as varchar) as initiated_by,
        cast(was_flagged_at_risk as boolean) as was_flagged_at_risk
    from source
)

select * from renamed
