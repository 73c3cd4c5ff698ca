{#- What a data test reads of the model it tests (dbt's hook for the test
    config `where`): the model, filtered by the test's `where` and, on a run
    that tests only its own months (run_months_test_predicate), by the months
    that run replaced. -#}
{% macro get_where_subquery(relation) -%}
    {%- set predicates = [] -%}
    {%- set where = config.get('where', '') -%}
    {%- if where -%}
        {%- do predicates.append('(' ~ where ~ ')') -%}
    {%- endif -%}
    {%- set run_months = run_months_test_predicate(relation) -%}
    {%- if run_months -%}
        {%- do predicates.append(run_months) -%}
    {%- endif -%}
    {%- if predicates -%}
        {%- set filtered -%}
            (select * from {{ relation }}
            where {{ predicates | join(' and ') }}) dbt_subquery
        {%- endset -%}
        {%- do return(filtered) -%}
    {%- endif -%}
    {%- do return(relation) -%}
{%- endmacro %}
