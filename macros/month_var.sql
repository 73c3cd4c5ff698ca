{#- Reads a month var ('YYYY-MM' or 'YYYY-MM-01') and returns it as the
    string 'YYYY-MM-01', or none when the var is unset or empty. Anything
    else is a compile error naming the var, so no malformed value reaches
    SQL. -#}
{% macro month_var(name) -%}
    {%- set raw = var(name, none) -%}
    {%- if raw is none or (raw | string | trim) == '' -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set text = raw | string | trim -%}
    {%- set match = modules.re.fullmatch(
        '([0-9]{4})-(0[1-9]|1[0-2])(-01)?', text
    ) -%}
    {%- if not match -%}
        {{ exceptions.raise_compiler_error(
            "var '" ~ name ~ "' must be a month as YYYY-MM or YYYY-MM-01, got '"
            ~ text ~ "'"
        ) }}
    {%- endif -%}
    {{ return(match.group(1) ~ '-' ~ match.group(2) ~ '-01') }}
{%- endmacro %}
