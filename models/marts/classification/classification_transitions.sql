-- How customers move between classes from one quarter end (March, June,
-- September, December) to the next: the quarterly refresh of Part B.
{%- set previous_quarter_end = dbt.dateadd('month', -3, 'month_start') %}
-- A run rebuilds its quarter ends and those up to three months after its
-- last month (the next quarter end reads the run's classes): the same months
-- the strategy deletes (rebuilt_months).
{%- set rebuilt = {'months_rebuilt_after_run': 3} %}
{{ config(meta=rebuilt) }}
with

month_spine as (
    select * from {{ ref('month_spine') }}
),

-- The classification history is read whole: a rebuilt quarter end needs the
-- classes of the quarter end before it, whatever months the run covers.
customer_classification as (
    select * from {{ ref('customer_classification') }}
),

customers as (
    select * from {{ ref('stg_landing__customers') }}
),

customer_classes as (
    select * from {{ ref('customer_classes') }}
),

first_month as (
    select min(month_start) as first_month_start from month_spine
),

-- Quarter ends of the run, and the next one after its last month (its
-- transitions change with the run's classes). A run of a month that is no
-- quarter end rebuilds the next quarter end unchanged.
quarter_ends as (
    select
        month_spine.month_start as quarter_end_month,
        cast({{ previous_quarter_end }} as date)
            as previous_quarter_end_month,
        cast({{ previous_quarter_end }} as date)
        >= first_month.first_month_start as has_previous_quarter_end
    from month_spine
    cross join first_month
    where
        extract(month from month_spine.month_start)
        in (3, 6, 9, 12)
        and {{ in_rebuilt_months('month_spine.month_start', rebuilt) }}
),

classes_at_quarter_end as (
    select
        quarter_ends.quarter_end_month,
        customer_classification.customer_id,
        customer_classification.classification
    from quarter_ends
    inner join customer_classification
        on quarter_ends.quarter_end_month = customer_classification.as_of_month
),

classes_at_previous_quarter_end as (
    select
        quarter_ends.quarter_end_month,
        customer_classification.customer_id,
        customer_classification.classification
    from quarter_ends
    inner join customer_classification
        on
            quarter_ends.previous_quarter_end_month
            = customer_classification.as_of_month
),

classes_paired as (
    select
        coalesce(
            current_classes.quarter_end_month,
            previous_classes.quarter_end_month
        ) as quarter_end_month,
        coalesce(current_classes.customer_id, previous_classes.customer_id)
            as customer_id,
        previous_classes.classification as previous_classification,
        current_classes.classification
    from classes_at_quarter_end as current_classes
    full outer join classes_at_previous_quarter_end as previous_classes
        on
            current_classes.quarter_end_month
            = previous_classes.quarter_end_month
            and current_classes.customer_id = previous_classes.customer_id
),

-- Ranks from the seed customer_classes: A = 1 is the best rank; a lower rank
-- than before is an upgrade.
classes_ranked as (
    select
        classes_paired.*,
        previous_classes.classification_rank as previous_classification_rank,
        current_classes.classification_rank
    from classes_paired
    left join customer_classes as previous_classes
        on
            classes_paired.previous_classification
            = previous_classes.classification
    left join customer_classes as current_classes
        on classes_paired.classification = current_classes.classification
),

classification_transitions as (
    select
        classes_ranked.quarter_end_month,
        classes_ranked.customer_id,
        customers.customer_name,
        quarter_ends.previous_quarter_end_month,
        quarter_ends.has_previous_quarter_end,
        classes_ranked.previous_classification,
        classes_ranked.classification,
        case
            when classes_ranked.classification is null then 'lost'
            when classes_ranked.previous_classification is null then 'new'
            when
                classes_ranked.classification_rank
                < classes_ranked.previous_classification_rank
                then 'upgrade'
            when
                classes_ranked.classification_rank
                > classes_ranked.previous_classification_rank
                then 'downgrade'
            else 'unchanged'
        end as transition
    from classes_ranked
    inner join quarter_ends
        on classes_ranked.quarter_end_month = quarter_ends.quarter_end_month
    left join customers
        on classes_ranked.customer_id = customers.customer_id
)

select * from classification_transitions
