{#- Predicate: the date `column` is a calendar date, not DuckDB's infinity
    or -infinity. Spark has no infinite dates, so there it is always true. -#}
{% macro is_finite_date(column) -%}
    {{ return(adapter.dispatch('is_finite_date', 'customer_portfolio')(
        column
    )) }}
{%- endmacro %}

{% macro default__is_finite_date(column) -%}
    isfinite({{ column }})
{%- endmacro %}

{% macro spark__is_finite_date(column) -%}
    ({{ column }} is not null)
{%- endmacro %}
