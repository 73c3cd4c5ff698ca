{#- The raw row as one line of text, `{"column": "value", ...}` in the
    landing file's column order, so a user can find it at the source. Each
    value is read from the column `<column><suffix>`. -#}
{% macro record_text(columns, suffix='') -%}
    {%- set pairs = [] -%}
    {%- for column in columns -%}
        {%- do pairs.append([column, adapter.quote(column ~ suffix)]) -%}
    {%- endfor -%}
    {{ json_object_text(pairs) }}
{%- endmacro %}
