-- Every landing row that did not make it into staging, with the reason: the
-- row-level checks of the base models plus the CSV records the reader could
-- not parse. Nothing is dropped silently.
with

base_customers as (
    select * from {{ ref('base_landing__customers') }}
),

base_offerings as (
    select * from {{ ref('base_landing__offerings') }}
),

base_agreements as (
    select * from {{ ref('base_landing__agreements') }}
),

base_agreement_lines as (
    select * from {{ ref('base_landing__agreement_lines') }}
),

base_invoice_lines as (
    select * from {{ ref('base_landing__invoice_lines') }}
),

base_time_entries as (
    select * from {{ ref('base_landing__time_entries') }}
),

base_churn_events as (
    select * from {{ ref('base_landing__churn_events') }}
),

reader_rejects as (
    select * from {{ source('landing', 'reader_rejects') }}
),

rejected_by_checks as (
    {%- for base in [
        'base_customers', 'base_offerings', 'base_agreements',
        'base_agreement_lines', 'base_invoice_lines', 'base_time_entries',
        'base_churn_events',
    ] %}
    select
        source_table,
        rejection_reason as reason,
        rejection_detail as detail,
        record,
        amount,
        cast(null as bigint) as line_number
    from {{ base }}
    where rejection_reason is not null
    {% if not loop.last %}union all{% endif %}
    {%- endfor %}
),

rejected_by_reader as (
    select
        table_name as source_table,
        {{ reader_reject_reason('error_type') }} as reason,
        error_type || ': ' || error_message as detail,
        csv_line as record,
        cast(null as decimal(18, 4)) as amount,
        cast(line as bigint) as line_number
    from reader_rejects
),

unioned as (
    select * from rejected_by_checks
    union all
    select * from rejected_by_reader
),

final as (
    select
        source_table,
        reason,
        detail,
        record,
        cast(amount as decimal(38, 4)) as amount,
        line_number
    from unioned
)

select * from final
