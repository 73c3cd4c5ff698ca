{#- ref() without the database: a view's SQL reads `schema.table`, so the
    served file still works when it is copied, renamed or attached under
    another name (DuckDB names a file's catalog after the file). The
    relation is otherwise dbt's own (builtins.ref), versions included. -#}
{% macro ref() -%}
    {%- set version = kwargs.get('version') or kwargs.get('v') -%}
    {%- if (varargs | length) == 1 -%}
        {%- set relation = builtins.ref(varargs[0], version=version) -%}
    {%- else -%}
        {%- set relation = builtins.ref(
            varargs[0], varargs[1], version=version
        ) -%}
    {%- endif -%}
    {{ return(relation_without_database(relation)) }}
{%- endmacro %}
