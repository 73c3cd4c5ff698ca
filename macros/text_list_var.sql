{#- A var that must be a list of short labels (or one comma-separated
    string of them), each made only of letters, digits, spaces and
    `_ & . / -`. Returns the labels trimmed and lower-cased, as a list
    (empty when the var is null or empty). Any other character, a quote
    above all, is a compile error naming the var, so the labels can be
    written into SQL string literals safely. -#}
{% macro text_list_var(name) -%}
    {%- set raw = var(name, none) -%}
    {%- if raw is none -%}
        {{ return([]) }}
    {%- elif raw is string -%}
        {%- set items = raw.split(',') -%}
    {%- elif raw is iterable and raw is not mapping -%}
        {%- set items = raw -%}
    {%- else -%}
        {{ exceptions.raise_compiler_error(
            "var '" ~ name ~ "' must be a list of labels, got " ~ raw | string
        ) }}
    {%- endif -%}
    {%- set labels = [] -%}
    {%- for item in items -%}
        {%- if item is not string
            or not modules.re.fullmatch('[A-Za-z0-9 _&./-]+', item.strip())
        -%}
            {%- if not (raw is string and item.strip() == '') -%}
                {{ exceptions.raise_compiler_error(
                    "var '" ~ name ~ "' must hold labels of letters, digits,"
                    ~ " spaces and _&./- only, got " ~ item | string
                ) }}
            {%- endif -%}
        {%- else -%}
            {%- do labels.append(item.strip().lower()) -%}
        {%- endif -%}
    {%- endfor -%}
    {{ return(labels) }}
{%- endmacro %}
