-- The gross-profit bridge chains from month to month: a month's ending gross
-- profit is the next month's starting gross profit, and every month of the
-- MRR range has a row.
with

gross_profit_bridge as (
    select * from {{ ref('gross_profit_bridge') }}
),

months as (
    select * from {{ ref('int_mrr_months_spanned') }}
),

consecutive_months as (
    select
        this_month.as_of_month,
        this_month.ending_gross_profit,
        next_month.starting_gross_profit as next_starting_gross_profit
    from gross_profit_bridge as this_month
    inner join gross_profit_bridge as next_month
        on
            next_month.as_of_month = cast(
                {{ dbt.dateadd('month', 1, 'this_month.as_of_month') }} as date
            )
),

chain_breaks as (
    select
        as_of_month as month_start,
        'ending differs from the next starting' as failure
    from consecutive_months
    where ending_gross_profit <> next_starting_gross_profit
),

missing_months as (
    select
        months.month_start,
        'month missing' as failure
    from months
    left join gross_profit_bridge
        on months.month_start = gross_profit_bridge.as_of_month
    where gross_profit_bridge.as_of_month is null
)

select * from chain_breaks
union all
select * from missing_months
