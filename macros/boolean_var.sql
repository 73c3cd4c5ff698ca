{#- A var that must be a boolean: true/false, or the strings 'true'/'false'
    (any case). Raises a compile error naming the var otherwise, so a
    malformed value never reaches SQL. -#}
{% macro boolean_var(name) -%}
    {%- set raw = var(name) -%}
    {%- if raw is boolean -%}
        {{ return(raw) }}
    {%- elif raw is string and raw.strip().lower() in ('true', 'false') -%}
        {{ return(raw.strip().lower() == 'true') }}
    {%- endif -%}
    {{ exceptions.raise_compiler_error(
        "var '" ~ name ~ "' must be true or false, got " ~ raw | string
    ) }}
{%- endmacro %}
