-- Fails when the var cut_off_month is before the first month with an
-- accepted invoice line: month_spine is then empty and so is every mart,
-- which must stop the build rather than publish an empty warehouse. (The
-- first invoice month is only known from the data, so this cannot be a
-- compile error.) Returns the cut-off and the first invoice month.
{%- set cut_off_month = month_var('cut_off_month') %}

with

invoice_lines as (
    select invoice_date from {{ ref('stg_landing__invoice_lines') }}
),

first_invoice_month as (
    select
        cast(
            min({{ dbt.date_trunc('month', 'invoice_date') }}) as date
        ) as first_invoice_month
    from invoice_lines
),

cut_off_compared as (
    select
        {% if cut_off_month is not none -%}
        cast('{{ cut_off_month }}' as date) as cut_off_month,
        {%- else -%}
        cast(null as date) as cut_off_month,
        {%- endif %}
        first_invoice_month,
        'var cut_off_month is before the first invoice month: no month to'
        || ' report' as problem
    from first_invoice_month
)

select * from cut_off_compared
where cut_off_month < first_invoice_month
