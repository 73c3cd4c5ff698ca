{#- Expands each row of `relation` (a ref or CTE name) into one row per month
    from its `start_column` to its `end_column` (both month starts,
    inclusive), as a date column named `month_start`. -#}
{% macro month_series(relation, start_column, end_column) -%}
    {{ return(adapter.dispatch('month_series', 'customer_portfolio')(
        relation, start_column, end_column
    )) }}
{%- endmacro %}

{% macro default__month_series(relation, start_column, end_column) -%}
    select cast(generated.month_start as date) as month_start
    from (
        select
            unnest(generate_series(
                cast({{ start_column }} as timestamp),
                cast({{ end_column }} as timestamp),
                interval 1 month
            )) as month_start
        from {{ relation }}
    ) as generated
{%- endmacro %}

{% macro spark__month_series(relation, start_column, end_column) -%}
    select cast(generated.month_start as date) as month_start
    from (
        select
            explode(sequence(
                cast({{ start_column }} as date),
                cast({{ end_column }} as date),
                interval 1 month
            )) as month_start
        from {{ relation }}
        -- Spark's sequence fails where DuckDB's series is empty.
        where cast({{ start_column }} as date) <= cast({{ end_column }} as date)
    ) as generated
{%- endmacro %}
