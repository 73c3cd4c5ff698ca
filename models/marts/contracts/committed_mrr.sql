-- Committed MRR: of the MRR in force at the end of as_of_month, how much is
-- still under contract at the end of each of the next twelve months, and
-- how much ends by then through a scheduled end or a cancellation. Every
-- end and cancellation date of the export counts as known at as_of_month
-- (see the docs block committed_mrr_method); new business after
-- as_of_month never counts.
{%- set months_ahead = range(1, 13) | list %}
with

months as (
    select * from {{ ref('int_mrr_months_spanned') }}
    where {{ in_partition('month_start') }}
),

agreement_line_ends as (
    select * from {{ ref('int_agreement_line_ends_classified') }}
),

forecast_offsets as (
    {%- for offset in months_ahead %}
    select {{ offset }} as months_ahead
    {%- if not loop.last %}
    union all
    {%- endif %}
    {%- endfor %}
),

-- Each line in force on as_of_month's last day (the month-end rule of
-- MRR: from ≤ day < until), once per forecast month. A line that starts
-- later is new business and never counts.
lines_projected_to_forecast_months as (
    select
        months.month_start as as_of_month,
        forecast_offsets.months_ahead,
        cast(
            {{ dbt.dateadd(
                'month',
                'forecast_offsets.months_ahead',
                'months.month_start'
            ) }} as date
        ) as forecast_month,
        agreement_line_ends.customer_id,
        agreement_line_ends.agreement_id,
        agreement_line_ends.line_mrr,
        agreement_line_ends.in_force_until_date,
        agreement_line_ends.end_reason
    from agreement_line_ends
    inner join months
        on
            agreement_line_ends.in_force_from_date <= months.month_end
            and coalesce(
                agreement_line_ends.in_force_until_date > months.month_end,
                true
            )
    cross join forecast_offsets
),

-- Still in force on the forecast month's last day (end dates exclusive).
lines_checked_at_forecast_month_end as (
    select
        *,
        in_force_until_date is null
        or in_force_until_date
        > cast({{ dbt.last_day('forecast_month', 'month') }} as date)
            as is_committed
    from lines_projected_to_forecast_months
),

forecast_months_summed as (
    select
        as_of_month,
        forecast_month,
        months_ahead,
        sum(line_mrr) as current_mrr,
        sum(case when is_committed then line_mrr else 0 end)
            as committed_mrr,
        count(distinct case when is_committed then customer_id end)
            as committed_customers,
        count(distinct case when is_committed then agreement_id end)
            as committed_agreements,
        sum(
            case
                when not is_committed and end_reason = 'scheduled_end'
                    then line_mrr
                else 0
            end
        ) as ended_by_scheduled_end_mrr,
        sum(
            case
                when not is_committed and end_reason = 'cancellation'
                    then line_mrr
                else 0
            end
        ) as ended_by_cancellation_mrr
    from lines_checked_at_forecast_month_end
    group by 1, 2, 3
),

committed_mrr as (
    select
        as_of_month,
        forecast_month,
        cast(months_ahead as integer) as months_ahead,
        cast(current_mrr as decimal(38, 6)) as current_mrr,
        cast(committed_mrr as decimal(38, 6)) as committed_mrr,
        committed_customers,
        committed_agreements,
        cast(committed_mrr as double)
        / nullif(cast(current_mrr as double), 0)
            as committed_share_of_current_mrr,
        cast(ended_by_scheduled_end_mrr as decimal(38, 6))
            as ended_by_scheduled_end_mrr,
        cast(ended_by_cancellation_mrr as decimal(38, 6))
            as ended_by_cancellation_mrr
    from forecast_months_summed
)

select * from committed_mrr
