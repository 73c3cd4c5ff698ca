{#- The raw row as one line of text, `{"column": "value", ...}` in the
    landing file's column order, so a user can find it at the source. -#}
{% macro record_text(columns) -%}
    {{ return(adapter.dispatch('record_text', 'customer_portfolio')(columns)) }}
{%- endmacro %}

{% macro default__record_text(columns) -%}
    cast(json_object(
        {%- for column in columns %}
        '{{ column }}', {{ adapter.quote(column) }}{{ "," if not loop.last }}
        {%- endfor %}
    ) as varchar)
{%- endmacro %}
