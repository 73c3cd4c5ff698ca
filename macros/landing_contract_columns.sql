{#- The columns of a landing table as the landing contract declares them:
    the source `landing.<source_table>` in
    models/staging/landing/_landing__sources.yml, each column's
    `config: meta:`. Returns, in the file's column order, a list of
    {name, type, required, values, non_negative, optional_in_file,
    date_window, sql_type}; an attribute the meta leaves out is false
    (values, date_window: none), and sql_type is the type staging casts the
    column to. date_window (event or contract) is required for a date column
    and allowed only there (macro plausible_date_window).

    The source nodes are read from `graph`, which dbt fills only when it
    executes; while it parses, the list is empty (the caller's refs and
    sources are still recorded). A table the sources do not declare, a column
    without a valid `type`, or a meta key outside the contract's attributes
    is a compile error, and so is a call from a dbt unit test, which compiles
    without `graph`.
-#}
{% macro landing_contract_columns(source_table) -%}
    {%- if not execute -%}
        {{- return([]) -}}
    {%- endif -%}
    {%- set sql_types = {
        'text': 'string',
        'date': 'date',
        'number': 'decimal(18, 4)',
        'integer': 'integer',
        'boolean': 'boolean',
    } -%}
    {%- set attributes = [
        'type', 'required', 'values', 'non_negative', 'optional_in_file',
        'date_window',
    ] -%}
    {%- if 'sources' not in graph -%}
        {{- exceptions.raise_compiler_error(
            "landing_contract_columns: no graph to read landing."
            ~ source_table ~ " from (dbt unit tests compile without one)"
        ) -}}
    {%- endif -%}
    {%- set tables = graph.sources.values()
        | selectattr('source_name', 'equalto', 'landing')
        | selectattr('name', 'equalto', source_table)
        | list -%}
    {%- if tables | length != 1 -%}
        {{- exceptions.raise_compiler_error(
            "landing_contract_columns: the source landing." ~ source_table
            ~ " is not declared"
        ) -}}
    {%- endif -%}
    {%- set columns = [] -%}
    {%- for column in tables[0].columns.values() -%}
        {%- set meta = column.config.meta -%}
        {%- set unknown = meta.keys() | reject('in', attributes) | list -%}
        {%- set window_ok = (meta.get('type') == 'date')
            == (meta.get('date_window') in ['event', 'contract']) -%}
        {%- if meta.get('type') not in sql_types or unknown or not window_ok -%}
            {{- exceptions.raise_compiler_error(
                "landing_contract_columns: landing." ~ source_table ~ "."
                ~ column.name ~ " needs config.meta.type, one of "
                ~ sql_types.keys() | join(', ') ~ ", and no meta keys but "
                ~ attributes | join(', ') ~ "; a date column needs date_window"
                ~ " event or contract, no other column has one (found " ~ meta ~ ")"
            ) -}}
        {%- endif -%}
        {%- do columns.append({
            'name': column.name,
            'type': meta.type,
            'required': meta.get('required', false),
            'values': meta.get('values'),
            'non_negative': meta.get('non_negative', false),
            'optional_in_file': meta.get('optional_in_file', false),
            'date_window': meta.get('date_window'),
            'sql_type': sql_types[meta.type],
        }) -%}
    {%- endfor -%}
    {{- return(columns) -}}
{%- endmacro %}
