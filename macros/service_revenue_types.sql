{#- The revenue types that are service revenue (every type but product
    resale), in reporting order: the parts of revenue_service_ttm. The
    landing contract's SERVICE_REVENUE_TYPES is the same list
    (tests/unit/test_landing_contract.py proves they agree).
-#}
{% macro service_revenue_types() -%}
    {{- return(
        revenue_types() | reject('equalto', 'product_resale') | list
    ) -}}
{%- endmacro %}
