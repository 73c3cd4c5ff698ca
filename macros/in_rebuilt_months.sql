{#- Predicate restricting a replace_months mart to the months its run
    replaces (rebuilt_months of `meta`): for a mart that also rebuilds months
    before or after the run's. `meta` is the dict the model also passes to
    config(meta=...), so its filter and the strategy's delete read one
    definition (a unit test renders the SQL without the model's config).
    Always true on a first or full-refresh build, or without month vars. -#}
{% macro in_rebuilt_months(column, meta) -%}
    {%- set months = rebuilt_months(meta) -%}
    {%- if is_incremental() and months is not none -%}
        {{ months_from(column, months) }}
    {%- else -%}
        true
    {%- endif -%}
{%- endmacro %}
