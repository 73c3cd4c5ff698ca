{#- The raw row as one line of text, `{"column": "value", ...}` in the
    landing file's column order, so a user can find it at the source. Each
    value is read from the column `<column><suffix>`. -#}
{% macro record_text(columns, suffix='') -%}
    {{ return(adapter.dispatch('record_text', 'customer_portfolio')(
        columns, suffix
    )) }}
{%- endmacro %}

{% macro default__record_text(columns, suffix='') -%}
    cast(json_object(
        {%- for column in columns %}
        '{{ column }}', {{ adapter.quote(column ~ suffix) }}
        {{- "," if not loop.last }}
        {%- endfor %}
    ) as string)
{%- endmacro %}

{#- Spark: to_json of a struct, null fields kept, as DuckDB's json_object
    writes them. -#}
{% macro spark__record_text(columns, suffix='') -%}
    to_json(named_struct(
        {%- for column in columns %}
        '{{ column }}', {{ adapter.quote(column ~ suffix) }}
        {{- "," if not loop.last }}
        {%- endfor %}
    ), map('ignoreNullFields', 'false'))
{%- endmacro %}
