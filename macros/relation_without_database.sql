{#- `relation` rendered as schema.identifier. A relation that is not a dbt
    Relation (a unit test's fixture CTE name) is returned as it is. -#}
{% macro relation_without_database(relation) -%}
    {%- if relation is not none and relation.include is defined -%}
        {{ return(relation.include(database=false)) }}
    {%- endif -%}
    {{ return(relation) }}
{%- endmacro %}
