{#- Predicate: `column` within the months of `months` ({'start', 'end'},
    as partition_months returns them), both ends included. -#}
{% macro months_between(column, months) -%}
    {{ column }} between cast('{{ months.start }}' as date)
    and cast('{{ months.end }}' as date)
{%- endmacro %}
