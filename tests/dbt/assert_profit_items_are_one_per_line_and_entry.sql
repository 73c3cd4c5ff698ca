-- int_profit_items_unioned holds exactly one item per staged invoice line and
-- per staged time entry: its rows per item_source equal the staged rows
-- (keys unique in staging, so equal counts mean no row lost or repeated).
-- Counting is cheap where a grain test over the 41 M-row view is not.
-- Returns one row per item_source whose counts differ.
with

items as (
    select * from {{ ref('int_profit_items_unioned') }}
),

invoice_lines as (
    select * from {{ ref('stg_landing__invoice_lines') }}
),

time_entries as (
    select * from {{ ref('stg_landing__time_entries') }}
),

staged_counts as (
    select
        'invoice_line' as item_source,
        count(*) as staged_rows
    from invoice_lines
    union all
    select
        'time_entry' as item_source,
        count(*) as staged_rows
    from time_entries
),

item_counts as (
    select
        item_source,
        count(*) as item_rows
    from items
    group by item_source
),

item_counts_compared_to_staged as (
    select
        coalesce(staged_counts.item_source, item_counts.item_source)
            as item_source,
        staged_counts.staged_rows,
        coalesce(item_counts.item_rows, 0) as item_rows
    from staged_counts
    full outer join item_counts
        on staged_counts.item_source = item_counts.item_source
)

select * from item_counts_compared_to_staged
where staged_rows is null or item_rows != staged_rows
