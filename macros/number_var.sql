{#- A var that must be a non-negative number (int or float, or a string that
    parses as one). Raises a compile error naming the var otherwise. -#}
{% macro number_var(name) -%}
    {%- set raw = var(name) -%}
    {%- if raw is number and raw is not boolean -%}
        {%- set value = raw -%}
    {%- elif raw is string
        and modules.re.fullmatch("[0-9]+([.][0-9]+)?", raw.strip()) -%}
        {%- set value = raw.strip() | float -%}
    {%- else -%}
        {{ exceptions.raise_compiler_error(
            "var '" ~ name ~ "' must be a non-negative number, got "
            ~ raw | string
        ) }}
    {%- endif -%}
    {%- if value < 0 -%}
        {{ exceptions.raise_compiler_error(
            "var '" ~ name ~ "' must be a non-negative number, got " ~ value
        ) }}
    {%- endif -%}
    {{ return(value) }}
{%- endmacro %}
