-- Whether each customer fits the target client profile (TCP): the manual
-- tcp_override when set, else the industry and employee rules of the dbt
-- vars tcp_industries, tcp_min_employees and tcp_max_employees.
{%- set industries = text_list_var('tcp_industries') %}
{%- set min_employees = optional_number_var('tcp_min_employees') %}
{%- set max_employees = optional_number_var('tcp_max_employees') %}
{%- set size_rules = [] %}
{%- if min_employees is not none %}
    {%- do size_rules.append(
        'employee_count >= ' ~ decimal_literal(min_employees)
    ) %}
{%- endif %}
{%- if max_employees is not none %}
    {%- do size_rules.append(
        'employee_count <= ' ~ decimal_literal(max_employees)
    ) %}
{%- endif %}
with

customers as (
    select * from {{ ref('stg_landing__customers') }}
),

-- An empty industry list or employee band does not restrict; an unknown
-- industry or employee_count fails a rule that does (it cannot be shown to
-- fit).
customers_checked_against_rules as (
    select
        customer_id,
        customer_name,
        industry,
        employee_count,
        tcp_override,
        {% if industries -%}
        coalesce(
            lower(trim(industry)) in (
                {%- for industry in industries %}
                '{{ industry }}'{{ ',' if not loop.last }}
                {%- endfor %}
            ),
            false
        ) as is_tcp_industry,
        {%- else -%}
        true as is_tcp_industry,
        {%- endif %}
        {% if size_rules -%}
        coalesce({{ size_rules | join(' and ') }}, false) as is_tcp_size
        {%- else -%}
        true as is_tcp_size
        {%- endif %}
    from customers
),

customers_profiled as (
    select
        *,
        is_tcp_industry and is_tcp_size as is_tcp_by_rules,
        coalesce(tcp_override, is_tcp_industry and is_tcp_size) as in_tcp
    from customers_checked_against_rules
)

select * from customers_profiled
