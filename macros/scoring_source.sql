{#- A table of the `scoring` schema, which the Python scoring assets write
    after the marts: source('scoring', table_name) when it exists, else an
    empty relation with `columns` (a mapping of column name to type), so
    that a plain `dbt build` of a warehouse never scored builds the models
    that read scores (with no score). The source() call is made either way,
    so dbt's lineage, and Dagster's, show the dependency: a Dagster run
    builds those models in its second dbt step, after the scoring assets
    (orchestration/defs/assets/dbt.py). -#}
{% macro scoring_source(table_name, columns) -%}
    {%- set relation = source('scoring', table_name) -%}
    {%- if not execute or relation.include is not defined
        or relation.schema is none -%}
        {#- Parsing, or a unit test's fixture (a name without a schema): the
            relation as it is. -#}
        {{ return(relation) }}
    {%- endif -%}
    {%- set existing = adapter.get_relation(
        database=relation.database,
        schema=relation.schema,
        identifier=relation.identifier,
    ) -%}
    {%- if existing is not none -%}
        {{ return(relation) }}
    {%- endif -%}
    {%- set empty -%}
        (
            select
            {%- for name, type in columns.items() %}
                cast(null as {{ type }}) as {{ name }}
                {{- ',' if not loop.last }}
            {%- endfor %}
            where 1 = 0
        )
    {%- endset -%}
    {{ return(empty) }}
{%- endmacro %}
