{#- The enumeration (`values`) the landing contract declares for one column,
    in contract order, e.g. landing_column_values('invoice_lines',
    'revenue_type') for the revenue types. Empty while dbt parses (see
    landing_contract_columns); a column without an enumeration is a compile
    error.
-#}
{% macro landing_column_values(source_table, column_name) -%}
    {%- if not execute -%}
        {{- return([]) -}}
    {%- endif -%}
    {%- set columns = landing_contract_columns(source_table)
        | selectattr('name', 'equalto', column_name)
        | list -%}
    {%- if not (columns and columns[0]['values']) -%}
        {{- exceptions.raise_compiler_error(
            "landing_column_values: landing." ~ source_table ~ "."
            ~ column_name ~ " declares no values"
        ) -}}
    {%- endif -%}
    {{- return(columns[0]['values']) -}}
{%- endmacro %}
