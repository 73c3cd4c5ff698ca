-- The customer dimension: one row per customer of the landing table, with
-- its attributes, its target-client-profile fit and its class, so that a BI
-- tool reads every customer-grain mart with one join on customer_id.
-- Not a monthly snapshot: rebuilt whole on every run, since "current" moves
-- with the latest month of the marts.
{{ config(materialized='table', partition_by=none) }}
with

customers_profiled as (
    select * from {{ ref('int_customers_profiled') }}
),

customers as (
    select * from {{ ref('stg_landing__customers') }}
),

customer_classification as (
    select * from {{ ref('customer_classification') }}
),

customer_ttm as (
    select * from {{ ref('int_customer_ttm_rolled_up') }}
),

latest_month as (
    select max(as_of_month) as as_of_month from customer_classification
),

-- Each customer's last classified month: its last active month up to the
-- latest month of the marts.
last_classified_months as (
    select
        customer_id,
        max(as_of_month) as last_classified_month
    from customer_classification
    group by 1
),

last_classifications as (
    select
        last_classified_months.customer_id,
        last_classified_months.last_classified_month,
        customer_classification.classification as last_classification
    from last_classified_months
    inner join customer_classification
        on
            last_classified_months.customer_id
            = customer_classification.customer_id
            and last_classified_months.last_classified_month
            = customer_classification.as_of_month
),

first_revenue_months as (
    select
        customer_id,
        min(as_of_month) as first_active_month
    from customer_ttm
    where is_active
    group by 1
),

customers_described as (
    select
        customers.customer_id,
        customers.customer_name,
        customers.industry,
        customers.employee_count,
        customers.region,
        customers.account_manager,
        customers.created_date,
        customers_profiled.in_tcp,
        customers_profiled.is_tcp_by_rules,
        customers.tcp_override,
        first_revenue_months.first_active_month,
        last_classifications.last_classified_month,
        last_classifications.last_classification,
        latest_month.as_of_month as latest_as_of_month,
        coalesce(
            last_classifications.last_classified_month
            = latest_month.as_of_month,
            false
        ) as is_active_at_latest_month,
        case
            when
                last_classifications.last_classified_month
                = latest_month.as_of_month
                then last_classifications.last_classification
        end as current_classification
    from customers
    inner join customers_profiled
        on customers.customer_id = customers_profiled.customer_id
    cross join latest_month
    left join first_revenue_months
        on customers.customer_id = first_revenue_months.customer_id
    left join last_classifications
        on customers.customer_id = last_classifications.customer_id
)

select * from customers_described
