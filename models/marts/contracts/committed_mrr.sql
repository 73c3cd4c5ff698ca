-- Committed MRR: of the MRR in force at the end of as_of_month, how much is
-- still under contract at the end of each of the next twelve months, and
-- how much ends by then through a scheduled end or a cancellation. Every
-- end and cancellation date of the export counts as known at as_of_month
-- (see the docs block contract_dates_known_at_month); new business after
-- as_of_month never counts.
-- Each line is placed once in the forecast month by whose last day it has
-- ended (not copied into twelve months), and the twelve months are running
-- totals of those places: the model reads each line-month once.
{%- set horizon_months = 12 %}
with

months as (
    select * from {{ ref('int_mrr_months_spanned') }}
    where {{ in_partition('month_start') }}
),

agreement_line_ends as (
    select * from {{ ref('int_agreement_line_ends_classified') }}
),

forecast_offsets as (
    {%- for offset in range(1, horizon_months + 1) %}
    select {{ offset }} as months_ahead
    {%- if not loop.last %}
    union all
    {%- endif %}
    {%- endfor %}
),

-- Each line in force on as_of_month's last day (the month-end rule of
-- MRR: from ≤ day < until). A line that starts later is new business.
lines_in_force_at_month_end as (
    select
        months.month_start as as_of_month,
        agreement_line_ends.customer_id,
        agreement_line_ends.agreement_id,
        agreement_line_ends.line_mrr,
        agreement_line_ends.end_reason,
        agreement_line_ends.in_force_until_date
    from agreement_line_ends
    inner join months
        on
            agreement_line_ends.in_force_from_date <= months.month_end
            and coalesce(
                agreement_line_ends.in_force_until_date > months.month_end,
                true
            )
),

-- The first forecast month on whose last day the line is no longer in force
-- (its exclusive end falls in that month): months ahead 1 … 12, or
-- {{ horizon_months + 1 }} when it runs past the horizon or is open-ended.
lines_placed_at_their_end as (
    select
        as_of_month,
        customer_id,
        agreement_id,
        line_mrr,
        end_reason,
        coalesce(
            least(
                {{ dbt.datediff(
                    'as_of_month',
                    dbt.date_trunc('month', 'in_force_until_date'),
                    'month'
                ) }},
                {{ horizon_months + 1 }}
            ),
            {{ horizon_months + 1 }}
        ) as ended_by_month_ahead
    from lines_in_force_at_month_end
),

current_mrr_summed as (
    select
        as_of_month,
        sum(line_mrr) as current_mrr
    from lines_placed_at_their_end
    group by 1
),

-- A customer (an agreement) is committed in a forecast month while any of
-- its lines is: until the latest of its lines' ends.
customer_ends as (
    select
        as_of_month,
        customer_id,
        max(ended_by_month_ahead) as ended_by_month_ahead
    from lines_placed_at_their_end
    group by 1, 2
),

agreement_ends as (
    select
        as_of_month,
        agreement_id,
        max(ended_by_month_ahead) as ended_by_month_ahead
    from lines_placed_at_their_end
    group by 1, 2
),

ends_by_month_ahead as (
    select
        as_of_month,
        ended_by_month_ahead,
        sum(case when end_reason = 'scheduled_end' then line_mrr else 0 end)
            as scheduled_end_mrr,
        sum(case when end_reason = 'cancellation' then line_mrr else 0 end)
            as cancellation_mrr,
        0 as customers,
        0 as agreements
    from lines_placed_at_their_end
    group by 1, 2

    union all

    select
        as_of_month,
        ended_by_month_ahead,
        0 as scheduled_end_mrr,
        0 as cancellation_mrr,
        count(*) as customers,
        0 as agreements
    from customer_ends
    group by 1, 2

    union all

    select
        as_of_month,
        ended_by_month_ahead,
        0 as scheduled_end_mrr,
        0 as cancellation_mrr,
        0 as customers,
        count(*) as agreements
    from agreement_ends
    group by 1, 2
),

-- Running totals: what has ended by each forecast month, and who is left.
forecast_months_summed as (
    select
        forecast_offsets.months_ahead,
        ends.as_of_month,
        sum(
            case
                when ends.ended_by_month_ahead <= forecast_offsets.months_ahead
                    then ends.scheduled_end_mrr
                else 0
            end
        ) as ended_by_scheduled_end_mrr,
        sum(
            case
                when ends.ended_by_month_ahead <= forecast_offsets.months_ahead
                    then ends.cancellation_mrr
                else 0
            end
        ) as ended_by_cancellation_mrr,
        sum(
            case
                when ends.ended_by_month_ahead > forecast_offsets.months_ahead
                    then ends.customers
                else 0
            end
        ) as committed_customers,
        sum(
            case
                when ends.ended_by_month_ahead > forecast_offsets.months_ahead
                    then ends.agreements
                else 0
            end
        ) as committed_agreements
    from ends_by_month_ahead as ends
    cross join forecast_offsets
    group by 1, 2
),

committed_mrr as (
    select
        forecast.as_of_month,
        cast(
            {{ dbt.dateadd(
                'month', 'forecast.months_ahead', 'forecast.as_of_month'
            ) }} as date
        ) as forecast_month,
        cast(forecast.months_ahead as integer) as months_ahead,
        cast(current_mrr_summed.current_mrr as decimal(38, 6)) as current_mrr,
        cast(
            current_mrr_summed.current_mrr
            - forecast.ended_by_scheduled_end_mrr
            - forecast.ended_by_cancellation_mrr as decimal(38, 6)
        ) as committed_mrr,
        cast(forecast.committed_customers as bigint) as committed_customers,
        cast(forecast.committed_agreements as bigint) as committed_agreements,
        cast(
            current_mrr_summed.current_mrr
            - forecast.ended_by_scheduled_end_mrr
            - forecast.ended_by_cancellation_mrr as double
        )
        / nullif(cast(current_mrr_summed.current_mrr as double), 0)
            as committed_share_of_current_mrr,
        cast(forecast.ended_by_scheduled_end_mrr as decimal(38, 6))
            as ended_by_scheduled_end_mrr,
        cast(forecast.ended_by_cancellation_mrr as decimal(38, 6))
            as ended_by_cancellation_mrr
    from forecast_months_summed as forecast
    inner join current_mrr_summed
        on forecast.as_of_month = current_mrr_summed.as_of_month
)

select * from committed_mrr
