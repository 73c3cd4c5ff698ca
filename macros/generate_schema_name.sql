{#- Custom schemas are used as-is (`marts`, not `main_marts`), so BI tools read
    stable names such as marts.customer_concentration in every environment. -#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}
        {{ target.schema }}
    {%- else -%}
        {{ custom_schema_name | trim }}
    {%- endif -%}
{%- endmacro %}
