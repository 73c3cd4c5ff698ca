{#- `numerator` / `denominator` rounded half away from zero to `scale`
    decimals, exactly, as decimal(38, scale); null when the denominator is 0
    or null. `numerator` is a decimal with at most `scale` decimals and
    `denominator` a positive whole number (a count). The quotient is taken
    in whole units of 10^-scale (type_wide_integer), not in floating point:
    DuckDB divides decimals in double, whose error rounds an exact half
    (579.0550 / 4 = 144.76375) down, and Spark divides them in decimal, so
    the two engines would disagree in the last digit. -#}
{% macro rounded_quotient(numerator, denominator, scale=4) -%}
    {%- set units = 'cast((' ~ numerator ~ ') * ' ~ (10 ** scale)
        ~ ' as ' ~ type_wide_integer() ~ ')' -%}
    {%- set count = 'nullif(' ~ denominator ~ ', 0)' -%}
    {{- 'cast(case when ' ~ units ~ ' < 0 then -1 else 1 end * cast('
        ~ integer_divide('abs(' ~ units ~ ') * 2 + ' ~ count, '2 * ' ~ count)
        ~ ' as decimal(38, 0)) * cast(' ~ '%.*f' | format(scale, 10 ** -scale)
        ~ ' as decimal(38, ' ~ scale ~ ')) as decimal(38, ' ~ scale ~ '))' -}}
{%- endmacro %}
