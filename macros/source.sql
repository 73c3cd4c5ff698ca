{#- source() without the database, for the reason given in ref(). -#}
{% macro source(source_name, table_name) -%}
    {{ return(relation_without_database(
        builtins.source(source_name, table_name)
    )) }}
{%- endmacro %}
