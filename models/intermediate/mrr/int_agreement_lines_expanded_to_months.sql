-- One row per agreement line per reported month in which the line (and so
-- its agreement) is in force on the month's last day and its MRR is still
-- recognised (var churn_recognition): the month-end snapshot MRR is
-- measured on.
with

agreement_lines as (
    select * from {{ ref('int_agreement_lines_normalised') }}
),

months as (
    select * from {{ ref('int_mrr_months_spanned') }}
),

agreement_lines_expanded_to_months as (
    select
        months.month_start,
        agreement_lines.customer_id,
        agreement_lines.agreement_id,
        agreement_lines.agreement_line_id,
        agreement_lines.offering_id,
        agreement_lines.billing_cycle,
        agreement_lines.line_mrr
    from agreement_lines
    inner join months
        on
            agreement_lines.in_force_from_date <= months.month_end
            and (
                agreement_lines.recognised_until_date is null
                or agreement_lines.recognised_until_date > months.month_end
            )
)

select * from agreement_lines_expanded_to_months
