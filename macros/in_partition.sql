{#- Predicate restricting an incremental mart to the months of this run
    (see partition_months). Always true on a first or full-refresh build, or
    when no month var is set, so those rebuild every month. With
    `months_before` it also keeps that many months before the run's: the
    inputs a trailing window of the run's months reads (11 for a TTM). -#}
{% macro in_partition(column, months_before=0) -%}
    {{ in_rebuilt_months(
        column, {'months_rebuilt_before_run': months_before}
    ) }}
{%- endmacro %}
