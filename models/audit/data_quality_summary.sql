-- The data-quality panel of one build: for every landing table, how many
-- rows were read, accepted and rejected (by reason), with their amounts.
{%- set tables = [
    'customers', 'offerings', 'agreements', 'agreement_lines',
    'invoice_lines', 'time_entries', 'churn_events',
] %}
with

{% for table in tables %}
base_{{ table }} as (
    select * from {{ ref('base_landing__' ~ table) }}
),

{% endfor %}
reader_rejects as (
    select * from {{ source('landing', 'reader_rejects') }}
),

-- One 'accepted' row per table, even when nothing was accepted.
accepted as (
    {%- for table in tables %}
    select
        '{{ table }}' as source_table,
        'accepted' as outcome,
        count(*) as row_count,
        sum(amount) as amount
    from base_{{ table }}
    where rejection_reason is null
    {% if not loop.last %}union all{% endif %}
    {%- endfor %}
),

rejected as (
    {%- for table in tables %}
    select
        source_table,
        rejection_reason as outcome,
        count(*) as row_count,
        sum(amount) as amount
    from base_{{ table }}
    where rejection_reason is not null
    group by 1, 2
    union all
    {%- endfor %}
    select
        table_name as source_table,
        'malformed_csv_line' as outcome,
        count(*) as row_count,
        cast(null as decimal(18, 4)) as amount
    from reader_rejects
    group by 1, 2
),

outcomes as (
    select * from accepted
    union all
    select * from rejected
),

outcomes_with_totals as (
    select
        source_table,
        outcome,
        outcome = 'accepted' as is_accepted,
        row_count,
        cast(amount as decimal(38, 4)) as amount,
        sum(row_count) over (partition by source_table) as rows_read,
        cast(row_count as double)
        / nullif(sum(row_count) over (partition by source_table), 0)
            as share_of_rows_read,
        '{{ invocation_id }}' as invocation_id,
        cast('{{ run_started_at.strftime("%Y-%m-%d %H:%M:%S") }}' as timestamp)
            as built_at
    from outcomes
)

select * from outcomes_with_totals
