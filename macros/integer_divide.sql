{#- `numerator` divided by `denominator`, both integers (or decimals of scale
    0), truncated towards zero: DuckDB's `//`, Spark's `div`. -#}
{% macro integer_divide(numerator, denominator) -%}
    {{ return(adapter.dispatch('integer_divide', 'customer_portfolio')(
        numerator, denominator
    )) }}
{%- endmacro %}

{% macro default__integer_divide(numerator, denominator) -%}
    ({{ numerator }}) // ({{ denominator }})
{%- endmacro %}

{% macro spark__integer_divide(numerator, denominator) -%}
    ({{ numerator }}) div ({{ denominator }})
{%- endmacro %}
