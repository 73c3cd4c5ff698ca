-- MetricFlow's time spine (the semantic layer in models/semantic): one row
-- per reported month. The months come from the data, the same months as
-- the MRR history (int_mrr_months_spanned: from the first month with MRR or
-- invoices to the last reporting month), which holds every as_of_month of
-- every mart; never from today's date or a fixed calendar.
with

mrr_months as (
    select month_start from {{ ref('int_mrr_months_spanned') }}
),

spine_months as (
    select cast(month_start as date) as month_start
    from mrr_months
)

select * from spine_months
