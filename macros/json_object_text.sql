{#- A JSON object as text, `{"name": value, ...}` in the order of `pairs`
    (a list of [name, SQL expression]); null values are written as null, not
    left out. -#}
{% macro json_object_text(pairs) -%}
    {{ return(adapter.dispatch('json_object_text', 'customer_portfolio')(
        pairs
    )) }}
{%- endmacro %}

{% macro default__json_object_text(pairs) -%}
    cast(json_object(
        {%- for name, expression in pairs %}
        '{{ name }}', {{ expression }}{{ "," if not loop.last }}
        {%- endfor %}
    ) as string)
{%- endmacro %}

{#- Spark: to_json of a struct, null fields kept (as DuckDB's json_object
    writes them). -#}
{% macro spark__json_object_text(pairs) -%}
    to_json(named_struct(
        {%- for name, expression in pairs %}
        '{{ name }}', {{ expression }}{{ "," if not loop.last }}
        {%- endfor %}
    ), map('ignoreNullFields', 'false'))
{%- endmacro %}
