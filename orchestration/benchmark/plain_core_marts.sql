-- The core marts in one plain DuckDB SQL script: the yardstick of the
-- benchmark (python -m orchestration.benchmark), not a second implementation
-- to publish. It computes, for every as_of_month of the landing data, the
-- figures of marts.customer_concentration, portfolio_concentration,
-- customer_classification, customer_offering_matrix and mrr_movements with the
-- definitions the marts' YAML and the README glossary give (the dbt marts are
-- the reference; tests/e2e/test_benchmark_plain_sql.py compares the two).
--
-- Input: the views landing_<table> (customers, offerings, invoice_lines,
-- time_entries, agreements, agreement_lines), typed as the landing contract
-- says. orchestration/benchmark/plain.py defines them before it runs this
-- script: read_csv with typed columns (DuckDB's parallel CSV reader) or
-- read_parquet with casts. Each landing file is read exactly once.
--
-- What it leaves out, and the dbt build does not: row validation and the
-- rejected-rows audit (the demo data has no bad row), TCP fit, full-package
-- status, warnings, recommended actions, incremental months, tests and the
-- write-audit-publish swap. Output: tables in the schema marts.

create schema if not exists marts;

-- Invoice lines summed once per customer, offering, revenue type and month:
-- both the customer months and the customer x offering months come from it.
create temp table invoice_months as
select
    customer_id,
    offering_id,
    revenue_type,
    cast(date_trunc('month', invoice_date) as date) as month_start,
    sum(extended_price) as revenue,
    sum(extended_cost) as product_cost
from landing_invoice_lines
group by all;

create temp table labor_months as
select
    customer_id,
    cast(date_trunc('month', work_date) as date) as month_start,
    sum(cast(hours_actual * loaded_hourly_cost as decimal(38, 4))) as labor_cost
from landing_time_entries
group by all;

-- Every month from the first to the last invoice month, with its TTM window.
create temp table month_spine as
with bounds as (
    select
        min(month_start) as first_month,
        max(month_start) as last_month
    from invoice_months
)

select
    cast(months.month_start as date) as month_start,
    cast(last_day(months.month_start) as date) as month_end,
    cast(months.month_start - interval 11 month as date)
        as ttm_window_start_month
from bounds,
    lateral (
        select unnest(generate_series(
            bounds.first_month, bounds.last_month, interval 1 month
        )) as month_start
    ) as months;

create temp table customer_months as
with unioned as (
    select
        customer_id,
        month_start,
        revenue,
        case when revenue_type = 'mrr' then revenue else 0 end as revenue_mrr,
        case
            when revenue_type = 'project_labor' then revenue else 0
        end as revenue_project_labor,
        case
            when revenue_type = 't_and_m' then revenue else 0
        end as revenue_t_and_m,
        case
            when revenue_type = 'block_time' then revenue else 0
        end as revenue_block_time,
        case
            when revenue_type = 'product_resale' then revenue else 0
        end as revenue_product_resale,
        product_cost,
        0 as labor_cost
    from invoice_months
    union all
    select
        customer_id,
        month_start,
        0,
        0,
        0,
        0,
        0,
        0,
        0,
        labor_cost
    from labor_months
)

select
    customer_id,
    month_start,
    cast(sum(revenue) as decimal(38, 4)) as revenue,
    cast(sum(revenue_mrr) as decimal(38, 4)) as revenue_mrr,
    cast(sum(revenue_project_labor) as decimal(38, 4))
        as revenue_project_labor,
    cast(sum(revenue_t_and_m) as decimal(38, 4)) as revenue_t_and_m,
    cast(sum(revenue_block_time) as decimal(38, 4)) as revenue_block_time,
    cast(sum(revenue_product_resale) as decimal(38, 4))
        as revenue_product_resale,
    cast(sum(product_cost) as decimal(38, 4)) as product_cost,
    cast(sum(labor_cost) as decimal(38, 4)) as labor_cost
from unioned
group by all;

-- Each customer month counts in the twelve as_of_months M with
-- M - 11 months <= month <= M; active customers only.
create temp table customer_ttm as
select
    month_spine.month_start as as_of_month,
    customer_months.customer_id,
    sum(customer_months.revenue) as revenue_ttm,
    sum(customer_months.revenue_mrr) as revenue_mrr_ttm,
    sum(customer_months.revenue_project_labor) as revenue_project_labor_ttm,
    sum(customer_months.revenue_t_and_m) as revenue_t_and_m_ttm,
    sum(customer_months.revenue_block_time) as revenue_block_time_ttm,
    sum(customer_months.revenue_product_resale) as revenue_product_resale_ttm,
    sum(customer_months.product_cost) as product_cost_ttm,
    sum(customer_months.labor_cost) as labor_cost_ttm
from month_spine
inner join customer_months
    on
        month_spine.ttm_window_start_month <= customer_months.month_start
        and month_spine.month_start >= customer_months.month_start
group by all
having sum(customer_months.revenue) > 0;

create or replace table marts.customer_concentration as
with ranked as (
    select
        *,
        revenue_mrr_ttm + revenue_project_labor_ttm + revenue_t_and_m_ttm
        + revenue_block_time_ttm as revenue_service_ttm,
        row_number() over by_rank as revenue_rank,
        count(*) over by_month as active_customers,
        sum(revenue_ttm) over by_month as portfolio_revenue_ttm,
        sum(revenue_ttm) over (
            by_rank rows between unbounded preceding and current row
        ) as cumulative_revenue_ttm
    from customer_ttm
    window
        by_month as (partition by as_of_month),
        by_rank as (
            partition by as_of_month
            order by revenue_ttm desc, customer_id asc
        )
)

select
    ranked.as_of_month,
    ranked.customer_id,
    landing_customers.customer_name,
    ranked.revenue_ttm,
    ranked.revenue_service_ttm,
    ranked.revenue_mrr_ttm,
    ranked.revenue_project_labor_ttm,
    ranked.revenue_t_and_m_ttm,
    ranked.revenue_block_time_ttm,
    ranked.revenue_product_resale_ttm,
    ranked.revenue_rank,
    cast(ranked.revenue_ttm as double)
    / cast(ranked.portfolio_revenue_ttm as double) as revenue_share,
    ranked.cumulative_revenue_ttm,
    cast(ranked.cumulative_revenue_ttm as double)
    / cast(ranked.portfolio_revenue_ttm as double) as cumulative_revenue_share,
    cast(ranked.revenue_rank as double)
    / ranked.active_customers as cumulative_customer_share,
    ranked.cumulative_revenue_ttm - ranked.revenue_ttm
    < 0.8 * ranked.portfolio_revenue_ttm as is_in_pareto_80_head,
    ranked.product_cost_ttm,
    ranked.labor_cost_ttm
from ranked
left join landing_customers
    on ranked.customer_id = landing_customers.customer_id;

-- Gini: the ascending rank i is N + 1 - revenue_rank, so
-- (2i - N - 1) = N + 1 - 2 * revenue_rank.
create or replace table marts.portfolio_concentration as
with weighted as (
    select
        *,
        count(*) over (partition by as_of_month) as month_customers
    from marts.customer_concentration
),

totals as (
    select
        as_of_month,
        count(*) as active_customers,
        sum(revenue_ttm) as revenue_ttm,
        sum(power(cast(revenue_ttm as double), 2)) as revenue_squared_sum,
        sum(case when revenue_rank <= 1 then revenue_ttm else 0 end) as top1,
        sum(case when revenue_rank <= 5 then revenue_ttm else 0 end) as top5,
        sum(case when revenue_rank <= 10 then revenue_ttm else 0 end) as top10,
        sum((month_customers + 1 - 2 * revenue_rank) * revenue_ttm)
            as gini_numerator,
        count(*) filter (where is_in_pareto_80_head) as pareto_80_count
    from weighted
    group by all
)

select
    month_spine.month_start as as_of_month,
    coalesce(totals.active_customers, 0) as active_customers,
    cast(coalesce(totals.revenue_ttm, 0) as decimal(38, 4)) as revenue_ttm,
    10000 * totals.revenue_squared_sum
    / power(cast(totals.revenue_ttm as double), 2) as hhi,
    cast(totals.top1 as double) / cast(totals.revenue_ttm as double)
        as top1_share,
    cast(totals.top5 as double) / cast(totals.revenue_ttm as double)
        as top5_share,
    cast(totals.top10 as double) / cast(totals.revenue_ttm as double)
        as top10_share,
    cast(totals.gini_numerator as double)
    / (totals.active_customers * cast(totals.revenue_ttm as double)) as gini,
    totals.pareto_80_count as pareto_80_customer_count,
    cast(totals.pareto_80_count as double)
    / totals.active_customers as pareto_80_customer_share
from month_spine
left join totals
    on month_spine.month_start = totals.as_of_month;

-- A/B/C/D: large = inside the Pareto 80 % head, high margin = margin % at
-- or above the portfolio's, both compared in exact decimals.
create or replace table marts.customer_classification as
with margins as (
    select
        as_of_month,
        customer_id,
        customer_name,
        revenue_ttm,
        product_cost_ttm,
        labor_cost_ttm,
        product_cost_ttm + labor_cost_ttm as cost_ttm,
        revenue_ttm - (product_cost_ttm + labor_cost_ttm) as gross_margin_ttm,
        revenue_rank,
        cumulative_revenue_ttm,
        cumulative_revenue_share,
        is_in_pareto_80_head as is_large
    from marts.customer_concentration
),

with_portfolio as (
    select
        *,
        sum(revenue_ttm) over (partition by as_of_month)
            as portfolio_revenue_ttm,
        sum(gross_margin_ttm) over (partition by as_of_month)
            as portfolio_gross_margin_ttm
    from margins
),

on_axes as (
    select
        *,
        gross_margin_ttm * portfolio_revenue_ttm
        >= portfolio_gross_margin_ttm * revenue_ttm as is_high_margin
    from with_portfolio
)

select
    as_of_month,
    customer_id,
    customer_name,
    revenue_ttm,
    product_cost_ttm,
    labor_cost_ttm,
    cost_ttm,
    gross_margin_ttm,
    cast(gross_margin_ttm as double) / cast(revenue_ttm as double)
        as gross_margin_pct,
    cast(portfolio_gross_margin_ttm as double)
    / cast(portfolio_revenue_ttm as double) as portfolio_gross_margin_pct,
    revenue_rank,
    cumulative_revenue_share,
    is_large,
    is_high_margin,
    case
        when is_large and is_high_margin then 'A'
        when is_large then 'B'
        when is_high_margin then 'C'
        else 'D'
    end as classification
from on_axes;

-- Part C: every active customer x every offering, with the pair's TTM revenue.
create or replace table marts.customer_offering_matrix as
with offering_months as (
    select
        customer_id,
        offering_id,
        month_start,
        cast(sum(revenue) as decimal(38, 4)) as revenue
    from invoice_months
    where offering_id is not null
    group by all
),

pair_ttm as (
    select
        month_spine.month_start as as_of_month,
        offering_months.customer_id,
        offering_months.offering_id,
        sum(offering_months.revenue) as revenue_ttm
    from month_spine
    inner join offering_months
        on
            month_spine.ttm_window_start_month <= offering_months.month_start
            and month_spine.month_start >= offering_months.month_start
    group by all
)

select
    active.as_of_month,
    active.customer_id,
    landing_offerings.offering_id,
    landing_offerings.revenue_type,
    landing_offerings.lifecycle,
    coalesce(landing_offerings.is_full_package_component, false)
        as is_full_package_component,
    cast(coalesce(pair_ttm.revenue_ttm, 0) as decimal(38, 4)) as revenue_ttm,
    coalesce(pair_ttm.revenue_ttm > 0, false) as owns_offering
from customer_ttm as active
cross join landing_offerings
left join pair_ttm
    on
        active.as_of_month = pair_ttm.as_of_month
        and active.customer_id = pair_ttm.customer_id
        and landing_offerings.offering_id = pair_ttm.offering_id;

-- MRR: a line counts at a month when it and its agreement are in force on
-- the month's last day; quantity x unit_price / cycle months, rounded half
-- away from zero to 6 decimals in integer arithmetic.
create temp table agreement_lines_normalised as
with joined as (
    select
        agreements.customer_id,
        agreement_lines.agreement_id,
        case agreement_lines.billing_cycle
            when 'monthly' then 1
            when 'quarterly' then 3
            when 'annual' then 12
        end as cycle_months,
        greatest(agreement_lines.effective_date, agreements.start_date)
            as in_force_from_date,
        nullif(
            least(
                coalesce(agreement_lines.cancelled_date, date '9999-12-31'),
                coalesce(agreements.end_date, date '9999-12-31'),
                coalesce(agreements.cancelled_date, date '9999-12-31')
            ),
            date '9999-12-31'
        ) as in_force_until_date,
        cast(
            cast(agreement_lines.quantity as decimal(38, 4))
            * agreement_lines.unit_price
            * 100000000 as hugeint
        ) as cycle_amount_units
    from landing_agreement_lines as agreement_lines
    inner join landing_agreements as agreements
        on agreement_lines.agreement_id = agreements.agreement_id
)

select
    customer_id,
    agreement_id,
    in_force_from_date,
    in_force_until_date,
    cast(
        sign(cycle_amount_units)
        * (
            (abs(cycle_amount_units) + 50 * cycle_months)
            // (100 * cycle_months)
        ) as decimal(38, 0)
    ) * cast(0.000001 as decimal(38, 6)) as line_mrr
from joined;

-- MRR months: from the first month a line is in force on a month end (or the
-- first invoice month, when earlier) to the last invoice month.
create temp table mrr_months as
with bounds as (
    select
        least(
            coalesce(
                (
                    select
                        min(
                            cast(
                                date_trunc('month', in_force_from_date) as date
                            )
                        )
                    from agreement_lines_normalised
                    where
                        in_force_until_date is null
                        or in_force_until_date > last_day(in_force_from_date)
                ),
                min(month_start)
            ),
            min(month_start)
        ) as first_month,
        max(month_start) as last_month
    from month_spine
)

select
    cast(months.month_start as date) as month_start,
    cast(last_day(months.month_start) as date) as month_end
from bounds,
    lateral (
        select unnest(generate_series(
            bounds.first_month, bounds.last_month, interval 1 month
        )) as month_start
    ) as months;

create temp table customer_mrr as
select
    mrr_months.month_start,
    lines.customer_id,
    cast(sum(lines.line_mrr) as decimal(38, 6)) as mrr
from agreement_lines_normalised as lines
inner join mrr_months
    on
        lines.in_force_from_date <= mrr_months.month_end
        and (
            lines.in_force_until_date is null
            or lines.in_force_until_date > mrr_months.month_end
        )
group by all
having sum(lines.line_mrr) > 0;

create or replace table marts.mrr_movements as
with shifted as (
    select
        cast(month_start + interval 1 month as date) as month_start,
        customer_id,
        mrr as previous_mrr
    from customer_mrr
),

first_months as (
    select
        customer_id,
        min(month_start) as first_mrr_month
    from customer_mrr
    group by all
),

compared as (
    select
        coalesce(customer_mrr.month_start, shifted.month_start) as month_start,
        coalesce(customer_mrr.customer_id, shifted.customer_id) as customer_id,
        coalesce(customer_mrr.mrr, 0) as mrr,
        coalesce(shifted.previous_mrr, 0) as previous_mrr
    from customer_mrr
    full outer join shifted
        on
            customer_mrr.month_start = shifted.month_start
            and customer_mrr.customer_id = shifted.customer_id
)

select
    compared.month_start as as_of_month,
    compared.customer_id,
    landing_customers.customer_name,
    cast(compared.mrr as decimal(38, 6)) as mrr,
    cast(compared.previous_mrr as decimal(38, 6)) as previous_mrr,
    cast(compared.mrr - compared.previous_mrr as decimal(38, 6)) as mrr_change,
    case
        when
            compared.previous_mrr = 0
            and compared.month_start = first_months.first_mrr_month
            then 'new'
        when compared.previous_mrr = 0 then 'reactivation'
        when compared.mrr = 0 then 'churn'
        when compared.mrr > compared.previous_mrr then 'expansion'
        when compared.mrr < compared.previous_mrr then 'contraction'
        else 'unchanged'
    end as movement,
    first_months.first_mrr_month
from compared
inner join mrr_months
    on compared.month_start = mrr_months.month_start
inner join first_months
    on compared.customer_id = first_months.customer_id
left join landing_customers
    on compared.customer_id = landing_customers.customer_id;
