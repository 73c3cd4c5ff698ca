{#- A var that must be a number in [0, 1]. Raises a compile error naming the
    var otherwise, so a malformed value never reaches SQL. -#}
{% macro fraction_var(name) -%}
    {%- set value = number_var(name) -%}
    {%- if value < 0 or value > 1 -%}
        {{ exceptions.raise_compiler_error(
            "var '" ~ name ~ "' must be a fraction between 0 and 1, got "
            ~ value
        ) }}
    {%- endif -%}
    {{ return(value) }}
{%- endmacro %}
