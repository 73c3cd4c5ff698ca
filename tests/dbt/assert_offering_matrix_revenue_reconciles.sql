-- For every active customer and month, Σ revenue_ttm over the offerings of
-- the matrix equals the customer's revenue_ttm less the TTM revenue of its
-- invoice lines that belong to no catalogue offering (offering_id null or
-- unknown), recomputed here from staging; and the customer has one matrix
-- row per catalogue offering. Returns the customer months that differ. On a
-- run that tests only its own months, those months (macro in_run_months).
with

month_spine as (
    select * from {{ ref('month_spine') }}
    where {{ in_run_months('month_start') }}
),

invoice_lines as (
    select * from {{ ref('stg_landing__invoice_lines') }}
),

offerings as (
    select * from {{ ref('stg_landing__offerings') }}
),

customer_classification as (
    select * from {{ ref('customer_classification') }}
    where {{ in_run_months('as_of_month') }}
),

customer_offering_matrix as (
    select * from {{ ref('customer_offering_matrix') }}
    where {{ in_run_months('as_of_month') }}
),

invoice_lines_without_offering as (
    select
        invoice_lines.customer_id,
        invoice_lines.invoice_date,
        invoice_lines.extended_price
    from invoice_lines
    left join offerings
        on invoice_lines.offering_id = offerings.offering_id
    where offerings.offering_id is null
),

revenue_without_offering as (
    select
        month_spine.month_start as as_of_month,
        invoice_lines_without_offering.customer_id,
        sum(invoice_lines_without_offering.extended_price) as revenue_ttm
    from month_spine
    inner join invoice_lines_without_offering
        on
            month_spine.ttm_window_start_month
            <= invoice_lines_without_offering.invoice_date
            and month_spine.month_end
            >= invoice_lines_without_offering.invoice_date
    group by 1, 2
),

matrix_totals as (
    select
        as_of_month,
        customer_id,
        sum(revenue_ttm) as revenue_ttm,
        count(*) as offerings
    from customer_offering_matrix
    group by 1, 2
),

customers_compared as (
    select
        customer_classification.as_of_month,
        customer_classification.customer_id,
        customer_classification.revenue_ttm,
        coalesce(revenue_without_offering.revenue_ttm, 0)
            as revenue_without_offering_ttm,
        coalesce(matrix_totals.revenue_ttm, 0) as matrix_revenue_ttm,
        coalesce(matrix_totals.offerings, 0) as matrix_offerings,
        (select count(*) from offerings) as catalogue_offerings
    from customer_classification
    left join revenue_without_offering
        on
            customer_classification.as_of_month
            = revenue_without_offering.as_of_month
            and customer_classification.customer_id
            = revenue_without_offering.customer_id
    left join matrix_totals
        on
            customer_classification.as_of_month = matrix_totals.as_of_month
            and customer_classification.customer_id = matrix_totals.customer_id
)

select * from customers_compared
where
    matrix_revenue_ttm != revenue_ttm - revenue_without_offering_ttm
    or matrix_offerings != catalogue_offerings
