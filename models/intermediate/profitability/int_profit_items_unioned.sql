-- Every invoice line and time entry as one item carrying its revenue, product
-- cost, labour hours and labour cost, dated by invoice_date or work_date: the
-- rows the agreement attribution assigns. attribution_key picks the agreement
-- types that suit the item (int_agreement_type_preferences): the invoice
-- line's revenue_type, the time entry's offering's revenue_type, or
-- without_offering for a time entry without an offering.
with

invoice_lines as (
    select * from {{ ref('stg_landing__invoice_lines') }}
),

time_entries as (
    select * from {{ ref('stg_landing__time_entries') }}
),

offerings as (
    select * from {{ ref('stg_landing__offerings') }}
),

invoice_lines_as_items as (
    select
        'invoice_line' as item_source,
        invoice_line_id as item_id,
        invoice_date as item_date,
        customer_id,
        offering_id,
        revenue_type as attribution_key,
        cast(extended_price as decimal(38, 8)) as revenue,
        cast(extended_cost as decimal(38, 8)) as product_cost,
        cast(0 as decimal(38, 8)) as labor_hours,
        cast(0 as decimal(38, 8)) as labor_cost
    from invoice_lines
),

time_entries_as_items as (
    select
        'time_entry' as item_source,
        time_entries.time_entry_id as item_id,
        time_entries.work_date as item_date,
        time_entries.customer_id,
        time_entries.offering_id,
        case
            when time_entries.offering_id is null then 'without_offering'
            else offerings.revenue_type
        end as attribution_key,
        cast(0 as decimal(38, 8)) as revenue,
        cast(0 as decimal(38, 8)) as product_cost,
        cast(time_entries.hours_actual as decimal(38, 8)) as labor_hours,
        -- Rounded to 4 decimals per entry, as int_customer_months_aggregated
        -- does, so that attributed amounts reconcile exactly.
        cast(
            cast(
                time_entries.hours_actual * time_entries.loaded_hourly_cost
                as decimal(38, 4)
            ) as decimal(38, 8)
        ) as labor_cost
    from time_entries
    left join offerings
        on time_entries.offering_id = offerings.offering_id
),

items_unioned as (
    select * from invoice_lines_as_items
    union all
    select * from time_entries_as_items
)

select * from items_unioned
