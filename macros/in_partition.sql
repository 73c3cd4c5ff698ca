{#- Predicate restricting an incremental mart to the months of this run
    (see partition_months). Always true on a first or full-refresh build, or
    when no month var is set, so those rebuild every month. -#}
{% macro in_partition(column) -%}
    {%- set months = partition_months() -%}
    {%- if is_incremental() and months is not none -%}
        {{ months_between(column, months) }}
    {%- else -%}
        true
    {%- endif -%}
{%- endmacro %}
