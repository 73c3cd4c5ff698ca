{#- The month of the date `column` as text, YYYY-MM. -#}
{% macro month_label(column) -%}
    {{ return(adapter.dispatch('month_label', 'customer_portfolio')(column)) }}
{%- endmacro %}

{% macro default__month_label(column) -%}
    strftime({{ column }}, '%Y-%m')
{%- endmacro %}

{% macro spark__month_label(column) -%}
    date_format({{ column }}, 'yyyy-MM')
{%- endmacro %}
