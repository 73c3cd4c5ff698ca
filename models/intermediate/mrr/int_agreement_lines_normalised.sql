-- Every agreement line with the dates it is in force (bounded by its
-- agreement), the date its MRR stops being recognised (var
-- churn_recognition) and its monthly recurring amount. One place for the
-- rules that decide whether, when and how much a line counts towards MRR.
{%- set churn_recognition = var('churn_recognition') %}
{%- if churn_recognition not in ['effective', 'notice', 'paid_period'] %}
    {{ exceptions.raise_compiler_error(
        "var churn_recognition must be effective, notice or paid_period, not "
        ~ churn_recognition
    ) }}
{%- endif %}
with

agreement_lines as (
    select * from {{ ref('stg_landing__agreement_lines') }}
),

agreements as (
    select * from {{ ref('stg_landing__agreements') }}
),

churn_events as (
    select * from {{ ref('stg_landing__churn_events') }}
),

agreement_lines_joined_to_agreements as (
    select
        agreement_lines.agreement_line_id,
        agreement_lines.agreement_id,
        agreements.customer_id,
        agreement_lines.offering_id,
        agreements.agreement_type,
        agreement_lines.billing_cycle,
        agreement_lines.quantity,
        agreement_lines.unit_price,
        agreement_lines.effective_date,
        case agreement_lines.billing_cycle
            when 'monthly' then 1
            when 'quarterly' then 3
            when 'annual' then 12
        end as billing_cycle_months,
        -- The line is in force from the later of its own and its agreement's
        -- start, until the earliest of the three exclusive end dates (null =
        -- open): the agreement's cancellation ends all of its lines.
        greatest(agreement_lines.effective_date, agreements.start_date)
            as in_force_from_date,
        nullif(
            least(
                coalesce(agreement_lines.cancelled_date, date '9999-12-31'),
                coalesce(agreements.end_date, date '9999-12-31'),
                coalesce(agreements.cancelled_date, date '9999-12-31')
            ),
            date '9999-12-31'
        ) as in_force_until_date,
        -- The amount per billing cycle in units of 10^-8 (an integer, since
        -- quantity and unit_price have 4 decimals each).
        cast(
            cast(agreement_lines.quantity as decimal(38, 4))
            * agreement_lines.unit_price
            * 100000000 as {{ type_wide_integer() }}
        ) as cycle_amount_units
    from agreement_lines
    inner join agreements
        on agreement_lines.agreement_id = agreements.agreement_id
),

-- The earliest notice of a full_churn event (every line of the customer)
-- or offering_cancel event (the lines of its offering; every line when it
-- names none) that ends the line: the line's own end falls after the notice
-- and on or before the event's effective date. That includes lines that
-- replaced others during the notice period: starting on or after the notice,
-- they never count. Downgrades end no line.
line_notices_matched as (
    select
        agreement_line.agreement_line_id,
        min(churn_events.notice_date) as notice_date
    from agreement_lines_joined_to_agreements as agreement_line
    inner join churn_events
        on
            agreement_line.customer_id = churn_events.customer_id
            and agreement_line.in_force_until_date > churn_events.notice_date
            and agreement_line.in_force_until_date
            <= churn_events.effective_date
    where
        churn_events.event_type = 'full_churn'
        or (
            churn_events.event_type = 'offering_cancel'
            and (
                churn_events.offering_id is null
                or agreement_line.offering_id = churn_events.offering_id
            )
        )
    group by 1
),

-- The paid billing periods of a quarterly or annual line start on its
-- effective_date and every 3 or 12 months after: the first period start on
-- or after the line's end closes the period that contains its last day
-- (months_to_period_end reaches the end's calendar month or the next start).
paid_periods_counted as (
    select
        agreement_line_id,
        effective_date,
        billing_cycle_months,
        in_force_until_date,
        ceil(
            greatest(
                {{ dbt.datediff(
                    'effective_date', 'in_force_until_date', 'month'
                ) }},
                0
            ) / cast(billing_cycle_months as double)
        ) * billing_cycle_months as months_to_period_end
    from agreement_lines_joined_to_agreements
    where
        in_force_until_date is not null
        and billing_cycle_months > 1
),

paid_periods_ended as (
    select
        agreement_line_id,
        case
            when
                {{ dbt.dateadd(
                    'month', 'months_to_period_end', 'effective_date'
                ) }} >= in_force_until_date
                then {{ dbt.dateadd(
                    'month', 'months_to_period_end', 'effective_date'
                ) }}
            else {{ dbt.dateadd(
                'month',
                'months_to_period_end + billing_cycle_months',
                'effective_date'
            ) }}
        end as paid_until_date
    from paid_periods_counted
),

lines_recognised as (
    select
        agreement_line.*,
        {%- if churn_recognition == 'notice' %}
        coalesce(
            line_notices_matched.notice_date,
            agreement_line.in_force_until_date
        )
        {%- elif churn_recognition == 'paid_period' %}
        coalesce(
            cast(paid_periods_ended.paid_until_date as date),
            agreement_line.in_force_until_date
        )
        {%- else %}
        agreement_line.in_force_until_date
        {%- endif %}
            as recognised_until_date,
        line_notices_matched.notice_date as ending_notice_date,
        cast(paid_periods_ended.paid_until_date as date) as paid_until_date
    from agreement_lines_joined_to_agreements as agreement_line
    left join line_notices_matched
        on
            agreement_line.agreement_line_id
            = line_notices_matched.agreement_line_id
    left join paid_periods_ended
        on
            agreement_line.agreement_line_id
            = paid_periods_ended.agreement_line_id
),

agreement_lines_normalised as (
    select
        agreement_line_id,
        agreement_id,
        customer_id,
        offering_id,
        agreement_type,
        billing_cycle,
        quantity,
        unit_price,
        billing_cycle_months,
        in_force_from_date,
        in_force_until_date,
        recognised_until_date,
        -- quantity × unit_price / billing_cycle_months rounded half away
        -- from zero to 6 decimals in exact integer arithmetic (decimal
        -- division would go through floating point): units of 10^-8 divided
        -- by 100 · months give units of 10^-6.
        cast(
            case when cycle_amount_units < 0 then -1 else 1 end
            * {{ integer_divide(
                'abs(cycle_amount_units) + 50 * billing_cycle_months',
                '100 * billing_cycle_months'
            ) }} as decimal(38, 0)
        ) * cast(0.000001 as decimal(38, 6)) as line_mrr
    from lines_recognised
)

select * from agreement_lines_normalised
