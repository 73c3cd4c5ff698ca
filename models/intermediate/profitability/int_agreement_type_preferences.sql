-- The agreement types that suit an invoice line or time entry that matches
-- no agreement line for its offering, in order of preference, from the var
-- profitability_agreement_types: one list per revenue type (the invoice
-- line's, or the time entry's offering's) and one for time entries without
-- an offering (key without_offering). See the docs block
-- agreement_attribution.
{%- set configured = var('profitability_agreement_types') %}
{%- set keys = revenue_types() + ['without_offering'] %}
{%- for key in configured %}
    {%- if key not in keys %}
        {{ exceptions.raise_compiler_error(
            "var 'profitability_agreement_types' has the key '" ~ key
            ~ "'; the keys are " ~ keys | join(', ')
        ) }}
    {%- endif %}
{%- endfor %}
{%- set preferences = [] %}
{%- for key in keys %}
    {%- for agreement_type in configured.get(key) or [] %}
        {%- do preferences.append((key, agreement_type, loop.index)) %}
    {%- endfor %}
{%- endfor %}
with

agreement_type_preferences as (
    {%- for key, agreement_type, preference in preferences %}
    select
        '{{ key }}' as attribution_key,
        '{{ agreement_type }}' as agreement_type,
        {{ preference }} as preference
    {{ 'union all' if not loop.last }}
    {%- else %}
    select
        cast(null as string) as attribution_key,
        cast(null as string) as agreement_type,
        cast(null as integer) as preference
    where 1 = 0
    {%- endfor %}
)

select * from agreement_type_preferences
