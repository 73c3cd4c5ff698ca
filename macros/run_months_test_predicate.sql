{#- On a run that replaces only some months of the monthly snapshot marts
    and says their other months were tested before (var
    `test_run_months_only`), the predicate that limits a data test of such a
    mart to the months the run replaced: the run's months (partition_months)
    and the months after them that the model also rebuilds (meta
    `months_rebuilt_after_run`), on the model's month column (its
    unique_key). Empty for a test of any other model, on a full refresh,
    without month vars or without the var. -#}
{% macro run_months_test_predicate(relation) -%}
    {%- if not execute or flags.FULL_REFRESH
        or not boolean_var('test_run_months_only') -%}
        {{ return('') }}
    {%- endif -%}
    {%- set months = partition_months() -%}
    {%- set node = graph.nodes.get(model.get('attached_node') or '') -%}
    {%- if months is none or node is none
        or node.config.materialized != 'incremental'
        or node.config.incremental_strategy != 'replace_months'
        or (node.alias or node.name) != relation.identifier -%}
        {{ return('') }}
    {%- endif -%}
    {%- set rebuilt = rebuilt_months(node.config.meta) -%}
    {{ return(months_from(node.config.unique_key, rebuilt)) }}
{%- endmacro %}
