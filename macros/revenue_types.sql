{#- The revenue types of offerings and invoice lines, in reporting order, for
    models that generate one column per type (revenue_<type> of
    int_customer_months_aggregated, owns_<type> of customer_cross_sell). The
    landing contract's enumeration of revenue_type, in
    orchestration/landing/contract.py and the sources' column meta, is the
    same list; tests/unit/test_landing_contract.py proves the three agree. A
    macro, not the sources' meta read from `graph`, because dbt unit tests
    compile models without `graph`.
-#}
{% macro revenue_types() -%}
    {{- return([
        'mrr', 'project_labor', 't_and_m', 'block_time', 'product_resale',
    ]) -}}
{%- endmacro %}
