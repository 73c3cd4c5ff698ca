-- A table, not a view: its data tests and int_agreement_months_aggregated
-- read it, and each read of a view would redo the attribution (about 5
-- minutes a read at 100,000 customers).
{{ config(materialized='table') }}

-- Each invoice line and time entry with the agreement it is attributed to
-- (null when none), by the rule of the docs block agreement_attribution:
-- first an agreement with a line for the item's offering in force on the
-- item's date; else an agreement in force on that date whose type suits the
-- item (int_agreement_type_preferences, in order of preference); ties go to
-- the latest start_date, then the smallest agreement_id.
with

items as (
    select * from {{ ref('int_profit_items_unioned') }}
),

agreement_lines as (
    select * from {{ ref('int_agreement_lines_normalised') }}
),

agreements_bounded as (
    select * from {{ ref('int_agreements_bounded') }}
),

agreement_type_preferences as (
    select * from {{ ref('int_agreement_type_preferences') }}
),

-- Rank 0: an agreement line of the customer for the item's offering is in
-- force on the item's date (the line's dates are bounded by its agreement).
offering_candidates as (
    select distinct
        items.item_source,
        items.item_id,
        agreement_lines.agreement_id,
        0 as candidate_rank
    from items
    inner join agreement_lines
        on
            items.customer_id = agreement_lines.customer_id
            and items.offering_id = agreement_lines.offering_id
            and items.item_date >= agreement_lines.in_force_from_date
            and (
                agreement_lines.in_force_until_date is null
                or items.item_date < agreement_lines.in_force_until_date
            )
),

-- Ranks 1, 2, ...: an agreement of the customer in force on the item's date
-- whose type suits the item, in the order of preference.
agreement_type_candidates as (
    select
        items.item_source,
        items.item_id,
        agreements_bounded.agreement_id,
        agreement_type_preferences.preference as candidate_rank
    from items
    inner join agreement_type_preferences
        on items.attribution_key = agreement_type_preferences.attribution_key
    inner join agreements_bounded
        on
            items.customer_id = agreements_bounded.customer_id
            and agreement_type_preferences.agreement_type
            = agreements_bounded.agreement_type
            and items.item_date >= agreements_bounded.start_date
            and (
                agreements_bounded.in_force_until_date is null
                or items.item_date < agreements_bounded.in_force_until_date
            )
),

candidates_unioned as (
    select * from offering_candidates
    union all
    select * from agreement_type_candidates
),

candidates_ranked as (
    select
        candidates_unioned.item_source,
        candidates_unioned.item_id,
        candidates_unioned.agreement_id,
        agreements_bounded.agreement_type,
        candidates_unioned.candidate_rank,
        row_number() over (
            partition by
                candidates_unioned.item_source, candidates_unioned.item_id
            order by
                candidates_unioned.candidate_rank asc,
                agreements_bounded.start_date desc,
                candidates_unioned.agreement_id asc
        ) as candidate_order
    from candidates_unioned
    inner join agreements_bounded
        on candidates_unioned.agreement_id = agreements_bounded.agreement_id
),

items_attributed as (
    select
        items.item_source,
        items.item_id,
        items.item_date,
        cast({{ dbt.date_trunc('month', 'items.item_date') }} as date)
            as month_start,
        items.customer_id,
        items.offering_id,
        items.attribution_key,
        candidates_ranked.agreement_id,
        coalesce(candidates_ranked.agreement_type, 'unattributed')
            as agreement_type,
        case
            when candidates_ranked.agreement_id is null then 'unattributed'
            when candidates_ranked.candidate_rank = 0 then 'offering'
            else 'agreement_type'
        end as attribution_rule,
        items.revenue,
        items.product_cost,
        items.labor_hours,
        items.labor_cost
    from items
    left join candidates_ranked
        on
            items.item_source = candidates_ranked.item_source
            and items.item_id = candidates_ranked.item_id
            and candidates_ranked.candidate_order = 1
)

select * from items_attributed
