{#- An integer type wider than bigint, for exact intermediate arithmetic
    (amounts in units of 10^-8): DuckDB's hugeint (128 bits), Spark's
    decimal(38, 0). -#}
{% macro type_wide_integer() -%}
    {{ return(adapter.dispatch('type_wide_integer', 'customer_portfolio')()) }}
{%- endmacro %}

{% macro default__type_wide_integer() -%}
    hugeint
{%- endmacro %}

{% macro spark__type_wide_integer() -%}
    decimal(38, 0)
{%- endmacro %}
