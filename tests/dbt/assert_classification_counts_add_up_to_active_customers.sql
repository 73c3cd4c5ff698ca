-- The customers of a month with a class of the seed customer_classes add up
-- to the active customers of portfolio_concentration, and the penetration
-- marts count the same active customers. Returns the months that differ.
with

portfolio_concentration as (
    select * from {{ ref('portfolio_concentration') }}
),

customer_classification as (
    select * from {{ ref('customer_classification') }}
),

customer_classes as (
    select * from {{ ref('customer_classes') }}
),

offering_penetration as (
    select * from {{ ref('offering_penetration') }}
),

portfolio_cross_sell as (
    select * from {{ ref('portfolio_cross_sell') }}
),

-- Only customers of a class in the seed customer_classes count.
class_counts as (
    select
        customer_classification.as_of_month,
        count(*) as classified_customers
    from customer_classification
    inner join customer_classes
        on
            customer_classification.classification
            = customer_classes.classification
    group by 1
),

-- Every offering row of a month carries the month's active customers.
penetration_counts as (
    select
        as_of_month,
        min(active_customers) as min_active_customers,
        max(active_customers) as max_active_customers
    from offering_penetration
    group by 1
),

months_compared as (
    select
        portfolio_concentration.as_of_month,
        portfolio_concentration.active_customers,
        coalesce(class_counts.classified_customers, 0)
            as classified_customers,
        penetration_counts.min_active_customers,
        penetration_counts.max_active_customers,
        portfolio_cross_sell.active_customers as cross_sell_active_customers
    from portfolio_concentration
    left join class_counts
        on portfolio_concentration.as_of_month = class_counts.as_of_month
    left join penetration_counts
        on portfolio_concentration.as_of_month = penetration_counts.as_of_month
    left join portfolio_cross_sell
        on
            portfolio_concentration.as_of_month
            = portfolio_cross_sell.as_of_month
)

select * from months_compared
where
    classified_customers != active_customers
    or cross_sell_active_customers is distinct from active_customers
    -- An empty catalogue leaves offering_penetration without rows.
    or min_active_customers != active_customers
    or max_active_customers != active_customers
