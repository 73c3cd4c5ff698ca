-- Every agreement line with the dates it is in force (bounded by its
-- agreement) and its monthly recurring amount. One place for the rules that
-- decide whether and how much a line counts towards MRR.
with

agreement_lines as (
    select * from {{ ref('stg_landing__agreement_lines') }}
),

agreements as (
    select * from {{ ref('stg_landing__agreements') }}
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
            * 100000000 as hugeint
        ) as cycle_amount_units
    from agreement_lines
    inner join agreements
        on agreement_lines.agreement_id = agreements.agreement_id
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
        -- quantity × unit_price / billing_cycle_months rounded half away
        -- from zero to 6 decimals in exact integer arithmetic (decimal
        -- division would go through floating point): units of 10^-8 divided
        -- by 100 · months give units of 10^-6.
        cast(
            sign(cycle_amount_units)
            * (
                (abs(cycle_amount_units) + 50 * billing_cycle_months)
                // (100 * billing_cycle_months)
            ) as decimal(38, 0)
        ) * cast(0.000001 as decimal(38, 6)) as line_mrr
    from agreement_lines_joined_to_agreements
)

select * from agreement_lines_normalised
