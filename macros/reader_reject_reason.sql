{#- The rejection reason of a landing.reader_rejects record, from its
    error_type: `undecodable_line` for a record the loader could not decode in
    the declared encoding (error type UNDECODABLE), `malformed_csv_line` for
    one DuckDB's CSV reader could not split into the header's columns.
-#}
{% macro reader_reject_reason(error_type) -%}
    case
        when {{ error_type }} = 'UNDECODABLE' then 'undecodable_line'
        else 'malformed_csv_line'
    end
{%- endmacro %}
