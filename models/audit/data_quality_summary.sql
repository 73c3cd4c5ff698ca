-- The data-quality panel of one build: for every landing table, how many
-- rows were read, accepted and rejected (by reason), with their amounts.
{%- set cut_off_month = month_var('cut_off_month') %}
{%- set tables = [
    'customers', 'offerings', 'agreements', 'agreement_lines',
    'invoice_lines', 'time_entries', 'churn_events',
] %}
{#- The base models are read where they are used, not through import CTEs:
    a CTE read several times is materialized whole by DuckDB (every column of
    31.8 M time entries at 100,000 customers), a direct read scans only the
    columns each part needs. -#}
{%- set base = {} %}
{%- for table in tables %}
{%- do base.update({table: ref('base_landing__' ~ table)}) %}
{%- endfor %}
with

reader_rejects as (
    select * from {{ source('landing', 'reader_rejects') }}
),

load_log as (
    select * from {{ source('landing', 'load_log') }}
),

-- The log keeps one row per table per load; the landing tables hold the
-- latest load.
latest_load as (
    select max(loaded_at) as loaded_at from load_log
),

-- Optional tables whose file was absent at the latest load, which the
-- loader read as empty.
absent_tables as (
    select
        load_log.table_name,
        load_log.note
    from load_log
    inner join latest_load
        on load_log.loaded_at = latest_load.loaded_at
    where not load_log.is_present
),

-- One 'accepted' row per table, even when nothing was accepted.
accepted as (
    {%- for table in tables %}
    select
        '{{ table }}' as source_table,
        'accepted' as outcome,
        count(*) as row_count,
        sum(amount) as amount
    from {{ base[table] }}
    where rejection_reason is null
    {% if not loop.last %}union all{% endif %}
    {%- endfor %}
),

-- An absent table's 'accepted' row of 0 becomes 'file_absent', with the
-- loader's note on what the absence leaves empty.
accepted_or_absent as (
    select
        accepted.source_table,
        case
            when absent_tables.table_name is null then accepted.outcome
            else 'file_absent'
        end as outcome,
        accepted.row_count,
        accepted.amount,
        absent_tables.note,
        cast(null as string) as column_name,
        cast(null as string) as root_cause,
        cast(null as decimal(38, 18)) as rounding_difference
    from accepted
    left join absent_tables
        on accepted.source_table = absent_tables.table_name
),

rejected as (
    {%- for table in tables %}
    select
        source_table,
        rejection_reason as outcome,
        count(*) as row_count,
        sum(amount) as amount,
        -- parent_rejected: one row per root cause, so the panel shows what
        -- each rejection up the chain of parents removed.
        case
            when rejection_root_cause is not null
                then 'rejected with their parent: ' || rejection_root_cause
        end as note,
        cast(null as string) as column_name,
        rejection_root_cause as root_cause,
        cast(null as decimal(38, 18)) as rounding_difference
    from {{ base[table] }}
    where rejection_reason is not null
    group by 1, 2, 7
    union all
    {%- endfor %}
    select
        table_name as source_table,
        {{ reader_reject_reason('error_type') }} as outcome,
        count(*) as row_count,
        cast(null as decimal(18, 4)) as amount,
        cast(null as string) as note,
        cast(null as string) as column_name,
        cast(null as string) as root_cause,
        cast(null as decimal(38, 18)) as rounding_difference
    from reader_rejects
    group by 1, 2
),

{% if cut_off_month is not none -%}
-- Informational: accepted invoice lines and time entries dated after the
-- var cut_off_month (so after every as_of_month), already counted under
-- 'accepted' and left out of every mart.
after_cut_off as (
    {%- for table, date_column in [
        ('invoice_lines', 'invoice_date'), ('time_entries', 'work_date')
    ] %}
    select
        '{{ table }}' as source_table,
        'after_cut_off' as outcome,
        count(*) as row_count,
        sum(amount) as amount,
        'accepted {{ table | replace('_', ' ') }} dated after cut_off_month '
        || '{{ cut_off_month[:7] }}'
        || ': counted under accepted, in no mart' as note,
        cast(null as string) as column_name,
        cast(null as string) as root_cause,
        cast(null as decimal(38, 18)) as rounding_difference
    from {{ base[table] }}
    where
        rejection_reason is null
        and {{ date_column }} >= cast(
            {{ dbt.dateadd(
                'month', 1, "cast('" ~ cut_off_month ~ "' as date)"
            ) }} as date
        )
    {% if not loop.last %}union all{% endif %}
    {%- endfor %}
),

{% endif -%}
-- No rows, in the panel's columns: the first part of the per-column
-- outcomes below, which have no other part while dbt parses (no contract
-- column is known then).
no_outcomes as (
    select
        '' as source_table,
        '' as outcome,
        0 as row_count,
        cast(null as decimal(18, 4)) as amount,
        '' as note,
        '' as column_name,
        '' as root_cause,
        cast(null as decimal(38, 18)) as rounding_difference
    where false
),

-- Informational: per number column, the accepted values exported with more
-- decimals than the column keeps (decimal(18, 4), an integer a whole
-- number), accepted rounded; rounding_difference is the total absolute
-- difference. A column appears only when a value was rounded.
rounded as (
    select * from no_outcomes
    {%- for table in tables %}
    {%- for column in landing_contract_columns(table)
        if column.type in ['number', 'integer'] %}
    union all
    select
        '{{ table }}' as source_table,
        'rounded' as outcome,
        count(*) as row_count,
        cast(null as decimal(18, 4)) as amount,
        'accepted values of {{ column.name }} with more decimals than '
        || '{{ column.sql_type }} keeps, rounded' as note,
        '{{ column.name }}' as column_name,
        cast(null as string) as root_cause,
        sum({{ column.name }}__rounding_difference) as rounding_difference
    from {{ base[table] }}
    where
        rejection_reason is null
        and {{ column.name }}__rounding_difference is not null
    having count(*) > 0
    {%- endfor %}
    {%- endfor %}
),

-- Informational: accepted keys that differ only in case (C00010, c00010)
-- in the tables other rows refer to by key (customers, offerings,
-- agreements), where such keys decide which rows belong together. Keys are
-- case-sensitive, as in the source systems, so they stay different rows;
-- the note names up to five such keys.
keys_differing_in_case as (
    select * from no_outcomes
    {%- for table in ['customers', 'offerings', 'agreements'] %}
    {%- for column in landing_contract_columns(table)[:1] %}
    union all
    select
        '{{ table }}' as source_table,
        'keys_differ_in_case' as outcome,
        count(*) as row_count,
        cast(null as decimal(18, 4)) as amount,
        'accepted {{ column.name }} values equal but for case, kept apart: '
        || {{ sorted_string_agg(
            'case when key_rank <= 5 then ' ~ column.name ~ ' end', "', '"
        ) }} as note,
        '{{ column.name }}' as column_name,
        cast(null as string) as root_cause,
        cast(null as decimal(38, 18)) as rounding_difference
    from (
        -- Ranked among the keys that differ only in case, for the note.
        select
            {{ column.name }},
            dense_rank() over (
                order by lower({{ column.name }}), {{ column.name }}
            ) as key_rank
        from (
            select
                {{ column.name }},
                count(*) over (partition by lower({{ column.name }}))
                    as keys_with_that_case_folding
            from (
                select distinct {{ column.name }}
                from {{ base[table] }}
                where rejection_reason is null
            ) as accepted_keys
        ) as keys_folded
        where keys_with_that_case_folding > 1
    ) as keys_ranked
    having count(*) > 0
    {%- endfor %}
    {%- endfor %}
),

-- Rows read = accepted + rejected rows (each landing row has exactly one of
-- these outcomes); informational rows break those down and are not added.
outcomes as (
    select
        *,
        false as is_informational
    from accepted_or_absent
    union all
    select
        *,
        false as is_informational
    from rejected
    {%- if cut_off_month is not none %}
    union all
    select
        *,
        true as is_informational
    from after_cut_off
    {%- endif %}
    union all
    select
        *,
        true as is_informational
    from rounded
    union all
    select
        *,
        true as is_informational
    from keys_differing_in_case
),

outcomes_with_rows_read as (
    select
        *,
        cast(
            sum(case when is_informational then 0 else row_count end)
                over (partition by source_table)
            as bigint
        ) as rows_read
    from outcomes
),

outcomes_with_totals as (
    select
        source_table,
        outcome,
        outcome in (
            'accepted', 'after_cut_off', 'rounded', 'keys_differ_in_case'
        ) as is_accepted,
        is_informational,
        row_count,
        cast(amount as decimal(38, 4)) as amount,
        rows_read,
        cast(row_count as double) / nullif(rows_read, 0)
            as share_of_rows_read,
        note,
        column_name,
        root_cause,
        cast(rounding_difference as decimal(38, 18)) as rounding_difference,
        '{{ invocation_id }}' as invocation_id,
        cast('{{ run_started_at.strftime("%Y-%m-%d %H:%M:%S") }}' as timestamp)
            as built_at
    from outcomes_with_rows_read
)

select * from outcomes_with_totals
