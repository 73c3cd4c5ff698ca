-- Warns (does not fail the build) when a landing table has more rejected
-- rows than the var data_quality_max_reject_share allows: the month-end close
-- goes on, and the data-quality panel shows what to fix at the source.
{{ config(severity='warn') }}

with

summary as (
    select * from {{ ref('data_quality_summary') }}
),

rejected_share as (
    select
        source_table,
        sum(case when is_accepted then 0 else row_count end) as rows_rejected,
        max(rows_read) as rows_read
    from summary
    group by 1
)

select * from rejected_share
where
    rows_rejected
    > {{ fraction_var('data_quality_max_reject_share') }} * rows_read
