{#- Predicate: `column` within a rebuilt_months result, both ends included
    (no upper end when 'end' is none). -#}
{% macro months_from(column, months) -%}
    {{ column }} >= {{ months.start }}
    {%- if months.end is not none %} and {{ column }} <= {{ months.end }}
    {%- endif %}
{%- endmacro %}
