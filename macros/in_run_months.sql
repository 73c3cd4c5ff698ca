{#- Predicate for a singular test over the monthly marts: on a run that tests
    only its own months (var `test_run_months_only` with month vars, not a
    full refresh; see run_months_test_predicate), `column` within the run's
    months (partition_months); otherwise true, every month. -#}
{% macro in_run_months(column) -%}
    {%- set months = partition_months() -%}
    {%- if not flags.FULL_REFRESH and months is not none
        and boolean_var('test_run_months_only') -%}
        {{ months_from(column, rebuilt_months({})) }}
    {%- else -%}
        true
    {%- endif -%}
{%- endmacro %}
