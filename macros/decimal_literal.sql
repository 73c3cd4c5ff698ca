{#- Renders a number validated by a *_var macro as an exact SQL decimal
    literal with ten decimal places (0.8 -> 0.8000000000), so comparisons
    with decimal money stay in decimal arithmetic instead of turning into
    floating point (a float such as 1e-05 would otherwise render as a
    double literal). -#}
{% macro decimal_literal(value) -%}
    {%- if value is not number or value is boolean -%}
        {{ exceptions.raise_compiler_error(
            "decimal_literal expects a number, got " ~ value | string
        ) }}
    {%- endif -%}
    {{- '%.10f' | format(value) -}}
{%- endmacro %}
