{#- The landing text `expression` (trimmed, never empty) as `sql_type`, or
    null where it does not parse. DuckDB's try_cast is the reference. Spark's
    cast reads more date spellings ('2024' and '2024-03' as the first day;
    anything after a space) and fewer ('2024/03/05'), so on Spark a date must
    be year-month-day (separated by - or /), optionally followed by a time:
    the spellings DuckDB reads. Numbers and booleans use each engine's cast;
    they differ only on spellings no export writes (hexadecimal 0x10 or
    1_000 are integers to DuckDB, null to Spark). -#}
{% macro try_cast_text(expression, sql_type) -%}
    {{ return(adapter.dispatch('try_cast_text', 'customer_portfolio')(
        expression, sql_type
    )) }}
{%- endmacro %}

{% macro default__try_cast_text(expression, sql_type) -%}
    try_cast({{ expression }} as {{ sql_type }})
{%- endmacro %}

{% macro spark__try_cast_text(expression, sql_type) -%}
    {%- if sql_type == 'date' -%}
    case
        when
            {{ expression }}
            rlike '^[0-9]{4}[-/][0-9]{1,2}[-/][0-9]{1,2}([ T][0-9:.]*)?$'
            then try_cast(
                regexp_replace({{ expression }}, '/', '-') as date
            )
    end
    {%- else -%}
    try_cast({{ expression }} as {{ sql_type }})
    {%- endif -%}
{%- endmacro %}
