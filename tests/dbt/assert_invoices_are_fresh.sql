-- Warns when the newest accepted invoice is older than the month being
-- built: the end of the run's months (vars as_of_month or end_month), or
-- without a month var the last closed calendar month of the run date.
{{ config(severity='warn') }}

{%- set months = partition_months() %}
{%- if months is not none %}
    {%- set month_built = "cast('" ~ months.end ~ "' as date)" %}
{%- else %}
    {%- set month_built = "cast('"
        ~ run_started_at.strftime('%Y-%m-01')
        ~ "' as date) - interval 1 month" %}
{%- endif %}

with

invoice_lines as (
    select invoice_date from {{ ref('stg_landing__invoice_lines') }}
),

newest_invoice as (
    select max(invoice_date) as newest_invoice_date from invoice_lines
)

select
    newest_invoice_date,
    {{ month_built }} as month_built
from newest_invoice
where
    newest_invoice_date is null
    or newest_invoice_date < {{ month_built }}
