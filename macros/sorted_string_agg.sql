{#- Aggregate: the non-null texts of `measure` in ascending order, joined by
    `delimiter` (a SQL string literal). -#}
{% macro sorted_string_agg(measure, delimiter) -%}
    {{ return(adapter.dispatch('sorted_string_agg', 'customer_portfolio')(
        measure, delimiter
    )) }}
{%- endmacro %}

{% macro default__sorted_string_agg(measure, delimiter) -%}
    string_agg({{ measure }}, {{ delimiter }} order by {{ measure }})
{%- endmacro %}

{% macro spark__sorted_string_agg(measure, delimiter) -%}
    array_join(array_sort(collect_list({{ measure }})), {{ delimiter }})
{%- endmacro %}
