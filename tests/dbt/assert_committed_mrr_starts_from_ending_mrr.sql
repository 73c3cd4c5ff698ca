-- Committed MRR starts from the MRR of its as_of_month: current_mrr equals
-- retention_summary's ending_mrr, and every month with MRR has its twelve
-- forecast months, months_ahead 1 … 12, each its as_of_month plus that many
-- months. On a run that tests only its own months, those months (macro
-- in_run_months).
with

committed_mrr as (
    select * from {{ ref('committed_mrr') }}
    where {{ in_run_months('as_of_month') }}
),

retention_summary as (
    select * from {{ ref('retention_summary') }}
    where {{ in_run_months('as_of_month') }}
),

forecasts_summarised as (
    select
        as_of_month,
        min(current_mrr) as min_current_mrr,
        max(current_mrr) as max_current_mrr,
        count(*) as forecast_months,
        count(distinct months_ahead) as distinct_months_ahead,
        min(months_ahead) as first_month_ahead,
        max(months_ahead) as last_month_ahead,
        count(
            case
                when
                    forecast_month
                    <> cast({{ dbt.dateadd(
                        'month', 'months_ahead', 'as_of_month'
                    ) }} as date)
                    then 1
            end
        ) as misdated_forecast_months
    from committed_mrr
    group by 1
)

select
    coalesce(retention_summary.as_of_month, forecasts_summarised.as_of_month)
        as as_of_month,
    retention_summary.ending_mrr,
    forecasts_summarised.min_current_mrr,
    forecasts_summarised.max_current_mrr,
    forecasts_summarised.forecast_months
from retention_summary
full outer join forecasts_summarised
    on retention_summary.as_of_month = forecasts_summarised.as_of_month
where
    (
        retention_summary.ending_mrr <> 0
        and forecasts_summarised.as_of_month is null
    )
    or retention_summary.as_of_month is null
    or forecasts_summarised.min_current_mrr <> retention_summary.ending_mrr
    or forecasts_summarised.max_current_mrr <> retention_summary.ending_mrr
    or forecasts_summarised.forecast_months <> 12
    or forecasts_summarised.distinct_months_ahead <> 12
    or forecasts_summarised.first_month_ahead <> 1
    or forecasts_summarised.last_month_ahead <> 12
    or forecasts_summarised.misdated_forecast_months > 0
