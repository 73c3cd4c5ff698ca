-- The months MRR is reported for: from the first month any agreement line is
-- in force on a month's last day (or the first invoice month, when that is
-- earlier) to the month spine's last month: the last invoice month, or the
-- var cut_off_month when earlier. Agreements run on past the data
-- (open-ended or with a future end date), so the end is never taken from
-- them: months after the last reporting month are not closed.
with

month_spine as (
    select * from {{ ref('month_spine') }}
),

agreement_lines as (
    select * from {{ ref('int_agreement_lines_normalised') }}
),

-- A line in force from a date is in force on that month's last day unless
-- it ends on or before it, in which case it is never in force on a month end.
first_line_month as (
    select
        min(
            cast({{ dbt.date_trunc('month', 'in_force_from_date') }} as date)
        ) as first_month
    from agreement_lines
    where
        in_force_until_date is null
        or in_force_until_date
        > cast({{ dbt.last_day('in_force_from_date', 'month') }} as date)
),

spine_bounds as (
    select
        min(month_start) as first_month,
        max(month_start) as last_month
    from month_spine
    having count(*) > 0
),

month_bounds as (
    select
        least(
            coalesce(first_line_month.first_month, spine_bounds.first_month),
            spine_bounds.first_month
        ) as first_month,
        spine_bounds.last_month
    from spine_bounds
    cross join first_line_month
),

months as (
    {{ month_series('month_bounds', 'first_month', 'last_month') }}
),

months_with_ends as (
    select
        month_start,
        cast({{ dbt.last_day('month_start', 'month') }} as date) as month_end
    from months
)

select * from months_with_ends
