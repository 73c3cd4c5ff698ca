-- Fails the build when every row of a required landing table (customers,
-- offerings, invoice_lines) was rejected: the marts would be empty or
-- meaningless, so nothing is published and the served warehouse keeps the
-- previous build. The data-quality panel of the failed build says why.
{{ config(severity='error') }}

with

summary as (
    select * from {{ ref('data_quality_summary') }}
),

accepted_by_table as (
    select
        source_table,
        sum(
            case when is_accepted and not is_informational then row_count end
        ) as rows_accepted,
        max(rows_read) as rows_read
    from summary
    where source_table in ('customers', 'offerings', 'invoice_lines')
    group by 1
)

select * from accepted_by_table
where rows_read > 0 and coalesce(rows_accepted, 0) = 0
