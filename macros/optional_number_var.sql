{#- A var that is either unset (null or an empty string: returns none) or a
    non-negative number (see number_var). Anything else is a compile error
    naming the var. -#}
{% macro optional_number_var(name) -%}
    {%- set raw = var(name, none) -%}
    {%- if raw is none or (raw is string and raw.strip() == '') -%}
        {{ return(none) }}
    {%- endif -%}
    {{ return(number_var(name)) }}
{%- endmacro %}
