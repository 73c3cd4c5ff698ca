{#- Predicate restricting an incremental mart to the months of this run
    (see partition_months). Always true on a first or full-refresh build, or
    when no month var is set, so those rebuild every month. With
    `months_before` it also keeps that many months before the run's: the
    inputs a trailing window of the run's months reads (11 for a TTM). -#}
{% macro in_partition(column, months_before=0) -%}
    {%- set months = partition_months() -%}
    {%- if is_incremental() and months is not none -%}
        {%- if months_before > 0 -%}
            {{ months_from(column, {
                'start': 'cast(' ~ dbt.dateadd(
                    'month', -months_before,
                    "cast('" ~ months.start ~ "' as date)"
                ) ~ ' as date)',
                'end': "cast('" ~ months.end ~ "' as date)",
            }) }}
        {%- else -%}
            {{ months_between(column, months) }}
        {%- endif -%}
    {%- else -%}
        true
    {%- endif -%}
{%- endmacro %}
