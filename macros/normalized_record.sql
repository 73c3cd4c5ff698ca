{#- A landing row as the duplicate and conflict checks compare it: the key
    trimmed, every other free-text value trimmed and lower-cased (enumerated
    values trimmed only: their case decides validity), every typed value
    (date, number, boolean) as its typed value where it parses. Two rows equal
    here differ only by whitespace, by the case of non-key text or by the
    spelling of a number or date (`100` and `100.00`): copies, not conflicts.
    Keys stay case-sensitive. Columns: the landing contract's columns, as
    validate_landing_rows receives them (`<name>__raw` and `<name>` exist).
-#}
{% macro normalized_record(columns, key) -%}
    {%- set pairs = [] -%}
    {%- for column in columns -%}
        {%- if column.name == key -%}
            {%- set expression = column.name ~ '__raw' -%}
        {%- elif column.type == 'text' and not column.get('values') -%}
            {%- set expression = 'lower(' ~ column.name ~ '__raw)' -%}
        {%- else -%}
            {%- set expression = 'coalesce(cast(' ~ column.name
                ~ ' as string), ' ~ column.name ~ '__raw)' -%}
        {%- endif -%}
        {%- do pairs.append([column.name, expression]) -%}
    {%- endfor -%}
    {{ json_object_text(pairs) }}
{%- endmacro %}
