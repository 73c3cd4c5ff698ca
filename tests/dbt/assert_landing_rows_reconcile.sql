-- Nothing is lost between landing and staging: for every landing table, the
-- rows read equal the rows staged plus the rows rejected, and the parsed
-- amounts add up the same way. Returns one row per table that does not.
{%- set tables = {
    'customers': none,
    'offerings': none,
    'agreements': none,
    'agreement_lines': 'quantity * unit_price',
    'invoice_lines': 'extended_price',
    'time_entries': 'hours_actual * loaded_hourly_cost',
    'churn_events': none,
} %}

with

landing_amounts as (
    select
        'agreement_lines' as source_table,
        sum(
            try_cast(nullif(trim(quantity), '') as decimal(18, 4))
            * try_cast(nullif(trim(unit_price), '') as decimal(18, 4))
        ) as amount_read
    from {{ source('landing', 'agreement_lines') }}
    union all
    select
        'invoice_lines' as source_table,
        sum(
            try_cast(nullif(trim(extended_price), '') as decimal(18, 4))
        ) as amount_read
    from {{ source('landing', 'invoice_lines') }}
    union all
    select
        'time_entries' as source_table,
        sum(
            try_cast(nullif(trim(hours_actual), '') as decimal(18, 4))
            * try_cast(nullif(trim(loaded_hourly_cost), '') as decimal(18, 4))
        ) as amount_read
    from {{ source('landing', 'time_entries') }}
),

landing_rows as (
    {%- for table in tables %}
    select
        '{{ table }}' as source_table,
        count(*) as rows_read
    from {{ source('landing', table) }}
    {% if not loop.last %}union all{% endif %}
    {%- endfor %}
),

read_from_landing as (
    select
        landing_rows.source_table,
        landing_rows.rows_read,
        landing_amounts.amount_read
    from landing_rows
    left join landing_amounts
        on landing_rows.source_table = landing_amounts.source_table
),

staged as (
    {%- for table, amount in tables.items() %}
    select
        '{{ table }}' as source_table,
        count(*) as rows_staged,
        {{ 'sum(' ~ amount ~ ')' if amount else 'null' }} as amount_staged
    from {{ ref('stg_landing__' ~ table) }}
    {% if not loop.last %}union all{% endif %}
    {%- endfor %}
),

rejected as (
    select
        source_table,
        count(*) as rows_rejected,
        sum(amount) as amount_rejected
    from {{ ref('rejected_rows') }}
    where reason not in ('malformed_csv_line', 'undecodable_line')
    group by 1
),

compared as (
    select
        read_from_landing.source_table,
        read_from_landing.rows_read,
        staged.rows_staged,
        coalesce(rejected.rows_rejected, 0) as rows_rejected,
        read_from_landing.amount_read,
        staged.amount_staged,
        coalesce(rejected.amount_rejected, 0) as amount_rejected
    from read_from_landing
    inner join staged
        on read_from_landing.source_table = staged.source_table
    left join rejected
        on read_from_landing.source_table = rejected.source_table
)

select * from compared
where
    rows_read != rows_staged + rows_rejected
    or coalesce(amount_read, 0)
    != coalesce(amount_staged, 0) + coalesce(amount_rejected, 0)
