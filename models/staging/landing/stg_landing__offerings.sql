-- The accepted rows of the landing table, typed. Rows failing a check
-- are in audit.rejected_rows instead (see base_landing__offerings).
with

validated as (
    select * from {{ ref('base_landing__offerings') }}
),

accepted as (
    select
        offering_id,
        offering_name,
        offering_family,
        revenue_type,
        lifecycle,
        is_full_package_component,
        list_price
    from validated
    where rejection_reason is null
)

select * from accepted
