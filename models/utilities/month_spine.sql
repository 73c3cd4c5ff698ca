-- The reporting months: every calendar month from the first to the last
-- month in which revenue was invoiced, or to the var cut_off_month when that
-- is earlier. Each is an as_of_month of the marts. Only accepted lines
-- count: a date outside its plausible window, or infinity, is rejected
-- (date_out_of_range, macro plausible_date_window), so every date here is
-- finite and plausible.
{%- set cut_off_month = month_var('cut_off_month') %}
with

invoice_lines as (
    select invoice_date from {{ ref('stg_landing__invoice_lines') }}
),

invoice_month_bounds as (
    select
        min({{ dbt.date_trunc('month', 'invoice_date') }}) as first_month,
        max({{ dbt.date_trunc('month', 'invoice_date') }}) as last_month
    from invoice_lines
    having count(*) > 0
),

-- The cut-off leaves out the months after it (a partial current month). A
-- cut-off before the first month leaves no month at all, which the test
-- assert_cut_off_month_not_before_first_invoice_month reports.
reporting_month_bounds as (
    select
        first_month,
        {% if cut_off_month is not none -%}
        least(last_month, cast('{{ cut_off_month }}' as date)) as last_month
        {%- else -%}
        last_month
        {%- endif %}
    from invoice_month_bounds
),

months as (
    {{ month_series('reporting_month_bounds', 'first_month', 'last_month') }}
),

months_with_ends as (
    select
        month_start,
        cast(
            {{ dbt.last_day('month_start', 'month') }} as date
        ) as month_end,
        cast(
            {{ dbt.dateadd('month', -11, 'month_start') }} as date
        ) as ttm_window_start_month
    from months
),

-- The first eleven months' windows reach back before the data starts.
months_flagged as (
    select
        months_with_ends.*,
        months_with_ends.ttm_window_start_month
        >= invoice_month_bounds.first_month as is_full_ttm_window
    from months_with_ends
    cross join invoice_month_bounds
)

select * from months_flagged
