{#- The plausible dates of a landing date column, as SQL: {lower, upper,
    explanation}. A date outside them, or a non-finite one (infinity,
    -infinity), rejects the row with date_out_of_range
    (validate_landing_rows). The one definition of the windows on the dbt
    side; orchestration/months.py (plausible_event_window) is the Python
    side of the event window, and the tests check that the two agree.

    date_window (the column's contract meta):
      event     what has happened by the export (invoice_date, work_date,
                notice_date): from 1 January of the var
                earliest_plausible_year to the last day of the month after
                the export date's month, so advance billing dated the 1st of
                next month stays valid. The export date is `exported_at`, the
                latest loaded_at of landing.load_log, never today's date;
                with no load logged the upper bound is the contract one.
      contract  what a contract may set in the future (agreement dates,
                line dates, churn effective_date, created_date): from the
                same 1 January to 31 December of the var
                latest_plausible_year.
-#}
{% macro plausible_date_window(date_window, exported_at='exported_at') -%}
    {%- set earliest = year_var('earliest_plausible_year') -%}
    {%- set latest = year_var('latest_plausible_year') -%}
    {%- if latest < earliest -%}
        {{- exceptions.raise_compiler_error(
            "var 'latest_plausible_year' (" ~ latest ~ ") is before "
            ~ "'earliest_plausible_year' (" ~ earliest ~ ")"
        ) -}}
    {%- endif -%}
    {%- set lower = "cast('" ~ earliest ~ "-01-01' as date)" -%}
    {%- set contract_upper = "cast('" ~ latest ~ "-12-31' as date)" -%}
    {%- if date_window == 'contract' -%}
        {{- return({
            'lower': lower,
            'upper': contract_upper,
            'explanation': "'contract date: earliest_plausible_year "
                ~ "to latest_plausible_year'",
        }) -}}
    {%- elif date_window == 'event' -%}
        {%- set event_upper = "cast(" ~ dbt.dateadd(
            'day', -1,
            dbt.dateadd('month', 2, dbt.date_trunc('month', exported_at))
        ) ~ " as date)" -%}
        {{- return({
            'lower': lower,
            'upper': 'coalesce(' ~ event_upper ~ ', ' ~ contract_upper ~ ')',
            'explanation': "'event date: earliest_plausible_year to the end "
                ~ "of the month after the export date ' || coalesce(cast("
                ~ "cast(" ~ exported_at ~ " as date) as string), '(none)')",
        }) -}}
    {%- else -%}
        {{- exceptions.raise_compiler_error(
            "plausible_date_window: date_window must be event or contract, got "
            ~ date_window
        ) -}}
    {%- endif -%}
{%- endmacro %}

{#- A var that must be a year, 1000 to 9999 (an int or a string of digits). -#}
{% macro year_var(name) -%}
    {%- set raw = var(name) -%}
    {%- if raw is number and raw is not boolean and raw == raw | int -%}
        {%- set value = raw | int -%}
    {%- elif raw is string and modules.re.fullmatch("[0-9]{4}", raw.strip()) -%}
        {%- set value = raw.strip() | int -%}
    {%- else -%}
        {%- set value = none -%}
    {%- endif -%}
    {%- if value is none or value < 1000 or value > 9999 -%}
        {{- exceptions.raise_compiler_error(
            "var '" ~ name ~ "' must be a year from 1000 to 9999, got "
            ~ raw | string
        ) -}}
    {%- endif -%}
    {{- return(value) -}}
{%- endmacro %}
