-- Every agreement line with the day it stops counting towards MRR
-- (recognised_until_date of int_agreement_lines_normalised, which follows
-- the var churn_recognition as the MRR marts do, so committed MRR starts
-- from the same MRR) and why: the
-- agreement's scheduled end, or a cancellation of the line or of its
-- agreement. Committed MRR splits the MRR that ends by this reason.
with

agreement_lines_normalised as (
    select * from {{ ref('int_agreement_lines_normalised') }}
),

agreement_ends as (
    select * from {{ ref('int_agreement_ends_classified') }}
),

-- The line ends when its agreement does (the agreement's reason), or
-- earlier through its own cancelled_date (a cancellation).
agreement_line_ends_classified as (
    select
        agreement_lines_normalised.agreement_line_id,
        agreement_lines_normalised.agreement_id,
        agreement_lines_normalised.customer_id,
        agreement_lines_normalised.agreement_type,
        agreement_lines_normalised.billing_cycle,
        agreement_lines_normalised.line_mrr,
        agreement_lines_normalised.in_force_from_date,
        agreement_lines_normalised.recognised_until_date
            as in_force_until_date,
        case
            when agreement_lines_normalised.recognised_until_date is null
                then null
            when
                agreement_lines_normalised.recognised_until_date
                = agreement_ends.ends_on_date
                then agreement_ends.end_reason
            else 'cancellation'
        end as end_reason
    from agreement_lines_normalised
    inner join agreement_ends
        on agreement_lines_normalised.agreement_id = agreement_ends.agreement_id
)

select * from agreement_line_ends_classified
