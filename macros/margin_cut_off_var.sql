{#- A gross-margin cut-off var: the string 'portfolio' (compare with the
    portfolio's own gross margin %) or a fraction between 0 and 1 (see
    fraction_var). Returns 'portfolio' or the number; anything else is a
    compile error naming the var. -#}
{% macro margin_cut_off_var(name) -%}
    {%- set raw = var(name) -%}
    {%- if raw is string and raw.strip().lower() == 'portfolio' -%}
        {{ return('portfolio') }}
    {%- endif -%}
    {%- if raw is string
        and not modules.re.fullmatch("[0-9]+(\.[0-9]+)?", raw.strip()) -%}
        {{ exceptions.raise_compiler_error(
            "var '" ~ name ~ "' must be 'portfolio' or a fraction between 0"
            ~ " and 1, got " ~ raw
        ) }}
    {%- endif -%}
    {{ return(fraction_var(name)) }}
{%- endmacro %}
