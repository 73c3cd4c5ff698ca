{#- The months a run of a replace_months mart replaces, as SQL date
    expressions {'start': ..., 'end': ...}; 'end' is none when every later
    month is replaced too. They are the run's months (partition_months),
    widened by the model's meta `months_rebuilt_before_run` (that many
    months before the first) and `months_rebuilt_after_run` (that many
    months after the last, or 'all': every later month). None without
    month vars: every month is rebuilt. The strategy's delete
    (get_incremental_replace_months_sql), the model's own filter
    (in_rebuilt_months) and its tests' scope (run_months_test_predicate)
    all read it, so they cannot disagree. -#}
{% macro rebuilt_months(meta) -%}
    {%- set months = partition_months() -%}
    {%- if months is none -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set before = (meta or {}).get('months_rebuilt_before_run', 0) -%}
    {%- set after = (meta or {}).get('months_rebuilt_after_run', 0) -%}
    {%- if before is not number or before < 0
        or (after != 'all' and (after is not number or after < 0)) -%}
        {{ exceptions.raise_compiler_error(
            "meta months_rebuilt_before_run must be a whole number of months"
            ~ " and months_rebuilt_after_run one or 'all', got "
            ~ before ~ " and " ~ after
        ) }}
    {%- endif -%}
    {%- set start = "cast('" ~ months.start ~ "' as date)" -%}
    {%- if before > 0 -%}
        {%- set start = 'cast('
            ~ dbt.dateadd('month', -before, start) ~ ' as date)' -%}
    {%- endif -%}
    {%- set end = "cast('" ~ months.end ~ "' as date)" -%}
    {%- if after == 'all' -%}
        {%- set end = none -%}
    {%- elif after > 0 -%}
        {%- set end = 'cast('
            ~ dbt.dateadd('month', after, end) ~ ' as date)' -%}
    {%- endif -%}
    {{ return({'start': start, 'end': end}) }}
{%- endmacro %}
