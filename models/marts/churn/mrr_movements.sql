-- MRR movements: each customer's MRR this month against the month before,
-- classified. Previous MRR and a customer's first MRR month come from the
-- full history, so rebuilding one month gives the same rows as a full build.
with

customer_mrr as (
    select * from {{ ref('int_customer_mrr_by_month') }}
),

months as (
    select * from {{ ref('int_mrr_months_spanned') }}
),

customers as (
    select * from {{ ref('stg_landing__customers') }}
),

-- Each month with MRR, moved to the month after: that month's previous MRR.
customer_mrr_shifted as (
    select
        cast({{ dbt.dateadd('month', 1, 'month_start') }} as date)
            as month_start,
        customer_id,
        mrr as previous_mrr
    from customer_mrr
),

first_mrr_months as (
    select
        customer_id,
        min(month_start) as first_mrr_month
    from customer_mrr
    group by 1
),

-- A row where the customer has MRR this month or had it the month before
-- (the churn row).
customer_mrr_joined_to_previous as (
    select
        coalesce(customer_mrr.month_start, customer_mrr_shifted.month_start)
            as month_start,
        coalesce(customer_mrr.customer_id, customer_mrr_shifted.customer_id)
            as customer_id,
        coalesce(customer_mrr.mrr, 0) as mrr,
        coalesce(customer_mrr_shifted.previous_mrr, 0) as previous_mrr
    from customer_mrr
    full outer join customer_mrr_shifted
        on
            customer_mrr.month_start = customer_mrr_shifted.month_start
            and customer_mrr.customer_id = customer_mrr_shifted.customer_id
),

-- Only reported months: no churn row for the month after the last month of
-- data, where a customer that still has MRR would otherwise seem to leave.
customer_months_classified as (
    select
        months.month_start as as_of_month,
        compared.customer_id,
        customers.customer_name,
        cast(compared.mrr as decimal(38, 6)) as mrr,
        cast(compared.previous_mrr as decimal(38, 6)) as previous_mrr,
        cast(compared.mrr - compared.previous_mrr as decimal(38, 6))
            as mrr_change,
        case
            {%- if boolean_var('reactivation_counts_as_new') %}
            -- var reactivation_counts_as_new: every return is `new`.
            when compared.previous_mrr = 0 then 'new'
            {%- else %}
            when
                compared.previous_mrr = 0
                and compared.month_start = first_mrr_months.first_mrr_month
                then 'new'
            {%- endif %}
            when compared.previous_mrr = 0 then 'reactivation'
            when compared.mrr = 0 then 'churn'
            when compared.mrr > compared.previous_mrr then 'expansion'
            when compared.mrr < compared.previous_mrr then 'contraction'
            else 'unchanged'
        end as movement,
        first_mrr_months.first_mrr_month
    from customer_mrr_joined_to_previous as compared
    inner join months
        on compared.month_start = months.month_start
    inner join first_mrr_months
        on compared.customer_id = first_mrr_months.customer_id
    left join customers
        on compared.customer_id = customers.customer_id
    where {{ in_partition('months.month_start') }}
)

select * from customer_months_classified
