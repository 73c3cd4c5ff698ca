{#- Post-hook of the monthly marts on Spark. There a mart is partitioned by
    its month column (unique_key) and built with insert_overwrite, which
    replaces only the months the run's rows have; this drops the partitions
    of the run's other rebuilt months (rebuilt_months), so that a month which
    now yields no row keeps no old row, as replace_months does on DuckDB.
    It reads the run's rows from the temporary view dbt-spark's incremental
    materialization leaves (`<model>__dbt_tmp`); on a first or full-refresh
    build, without month vars, and on every other engine it does nothing. -#}
{% macro drop_months_without_rows() -%}
    {%- if target.type != 'spark' or not execute
        or model.config.materialized != 'incremental'
        or should_full_refresh() -%}
        {{ return('') }}
    {%- endif -%}
    {%- set months = rebuilt_months(model.config.get('meta')) -%}
    {%- if months is none -%}
        {{ return('') }}
    {%- endif -%}
    {%- set month_column = model.config.unique_key -%}
    {%- set run_rows = this.identifier ~ '__dbt_tmp' -%}
    {%- set views = run_query(
        "show views in " ~ this.schema ~ " like '" ~ run_rows ~ "'"
    ) -%}
    {%- if views.rows | length == 0 -%}
        {{ return('') }}
    {%- endif -%}
    {%- set emptied = run_query(
        "select distinct cast(" ~ month_column ~ " as string) from " ~ this
        ~ " where " ~ months_from(month_column, months)
        ~ " and " ~ month_column ~ " not in (select " ~ month_column
        ~ " from " ~ run_rows ~ ")"
    ) -%}
    {%- for row in emptied.rows -%}
        {%- do run_query(
            "alter table " ~ this ~ " drop if exists partition ("
            ~ month_column ~ " = date '" ~ row[0] ~ "')"
        ) -%}
    {%- endfor -%}
    {{ return('') }}
{%- endmacro %}
