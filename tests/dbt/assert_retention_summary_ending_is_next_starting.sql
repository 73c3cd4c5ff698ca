-- The MRR bridge chains from month to month: a month's ending MRR and
-- customers are the next month's starting MRR and customers, and every
-- month of the MRR range has a row.
with

retention_summary as (
    select * from {{ ref('retention_summary') }}
),

months as (
    select * from {{ ref('int_mrr_months_spanned') }}
),

consecutive_months as (
    select
        this_month.as_of_month,
        this_month.ending_mrr,
        this_month.ending_customers,
        next_month.starting_mrr as next_starting_mrr,
        next_month.starting_customers as next_starting_customers
    from retention_summary as this_month
    inner join retention_summary as next_month
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
    where
        ending_mrr <> next_starting_mrr
        or ending_customers <> next_starting_customers
),

missing_months as (
    select
        months.month_start,
        'month missing' as failure
    from months
    left join retention_summary
        on months.month_start = retention_summary.as_of_month
    where retention_summary.as_of_month is null
)

select * from chain_breaks
union all
select * from missing_months
