{#- The incremental strategy `replace_months` of the snapshot marts: delete
    every row of the run's months, then insert the rebuilt rows. The month
    column is the model's unique_key. Unlike delete+insert, which deletes
    only the months present in the new rows, a month that now yields no row
    loses its old rows too.

    The run's months are those of partition_months; without a month var
    every month is rebuilt, so every row is replaced. A model that also
    rebuilds months before or after the run's sets meta
    `months_rebuilt_before_run` / `months_rebuilt_after_run` (see
    rebuilt_months; classification_transitions rebuilds the next quarter
    end, churn_risk_features the three months before the run and every
    later one). Rows whose month is among the new rows are deleted as well,
    so no row is ever doubled.
-#}
{% macro get_incremental_replace_months_sql(arg_dict) -%}
    {%- set target = arg_dict['target_relation'] -%}
    {%- set source = arg_dict['temp_relation'] -%}
    {%- set month_column = arg_dict['unique_key'] -%}
    {%- if month_column is not string -%}
        {{ exceptions.raise_compiler_error(
            "incremental strategy replace_months needs unique_key set to "
            ~ "the model's month column, got " ~ month_column
        ) }}
    {%- endif -%}
    {%- set columns = get_quoted_csv(
        arg_dict['dest_columns'] | map(attribute='name')
    ) -%}
    {%- set months = rebuilt_months(config.get('meta')) -%}
    delete from {{ target }}
    {%- if months is not none %}
    where
        {{ months_from(month_column, months) }}
        or {{ month_column }} in (select {{ month_column }} from {{ source }})
    {%- endif %};

    insert into {{ target }} ({{ columns }})
    select {{ columns }} from {{ source }}
{%- endmacro %}
