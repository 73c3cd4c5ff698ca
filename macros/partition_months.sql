{#- The months a run rebuilds, from the vars `as_of_month` (one month) or
    `start_month` and `end_month` (an inclusive range, as a backfill uses).
    Returns {'start': 'YYYY-MM-01', 'end': 'YYYY-MM-01'}, or none when no
    month var is set (every month is built). -#}
{% macro partition_months() -%}
    {%- set single = month_var('as_of_month') -%}
    {%- set start = month_var('start_month') -%}
    {%- set end = month_var('end_month') -%}
    {%- if single is not none and (start is not none or end is not none) -%}
        {{ exceptions.raise_compiler_error(
            "set either var 'as_of_month' or vars 'start_month'/'end_month',"
            ~ " not both"
        ) }}
    {%- endif -%}
    {%- if single is not none -%}
        {{ return({'start': single, 'end': single}) }}
    {%- endif -%}
    {%- if start is none and end is none -%}
        {{ return(none) }}
    {%- endif -%}
    {%- if start is none or end is none -%}
        {{ exceptions.raise_compiler_error(
            "vars 'start_month' and 'end_month' must be set together"
        ) }}
    {%- endif -%}
    {%- if start > end -%}
        {{ exceptions.raise_compiler_error(
            "var 'start_month' (" ~ start ~ ") is after 'end_month' ("
            ~ end ~ ")"
        ) }}
    {%- endif -%}
    {{ return({'start': start, 'end': end}) }}
{%- endmacro %}
