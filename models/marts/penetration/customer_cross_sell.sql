-- Part C, per customer: what each active customer owns, whether it is on the
-- full package, its agreement profile and the revenue still to win by
-- cross-selling it the current offerings other customers already buy.
-- owns_<revenue type>: one flag per revenue type of the landing contract.
{%- set revenue_types = revenue_types() %}
with

active_customers as (
    select
        as_of_month,
        customer_id,
        revenue_ttm
    from {{ ref('int_customer_ttm_rolled_up') }}
    where is_active and {{ in_partition('as_of_month') }}
),

customers_profiled as (
    select * from {{ ref('int_customers_profiled') }}
),

customer_offering_matrix as (
    select * from {{ ref('customer_offering_matrix') }}
    where {{ in_partition('as_of_month') }}
),

offering_penetration as (
    select * from {{ ref('offering_penetration') }}
    where {{ in_partition('as_of_month') }}
),

-- Whitespace: a current offering that at least one customer owns and this
-- customer does not, valued at the offering's ARPO.
matrix_with_whitespace as (
    select
        customer_offering_matrix.*,
        not customer_offering_matrix.owns_offering
        and customer_offering_matrix.lifecycle = 'current'
        and offering_penetration.owning_customers > 0 as is_whitespace,
        offering_penetration.avg_revenue_per_owner
    from customer_offering_matrix
    inner join offering_penetration
        on
            customer_offering_matrix.as_of_month
            = offering_penetration.as_of_month
            and customer_offering_matrix.offering_id
            = offering_penetration.offering_id
),

customer_offerings_summarised as (
    select
        as_of_month,
        customer_id,
        count(case when owns_offering then 1 end) as offerings_owned,
        count(case when is_full_package_component then 1 end)
            as full_package_components,
        count(
            case when owns_offering and is_full_package_component then 1 end
        ) as full_package_components_owned,
        count(case when is_whitespace then 1 end) as whitespace_offerings,
        sum(
            case when is_whitespace then avg_revenue_per_owner else 0 end
        ) as whitespace_revenue,
        {%- for revenue_type in revenue_types %}
        count(
            case
                when owns_offering and revenue_type = '{{ revenue_type }}'
                    then 1
            end
        )
        > 0 as owns_{{ revenue_type }},
        {%- endfor %}
        count(case when owns_offering and lifecycle = 'legacy' then 1 end)
        > 0 as owns_legacy_offering
    from matrix_with_whitespace
    group by 1, 2
),

customer_cross_sell as (
    select
        active_customers.as_of_month,
        active_customers.customer_id,
        customers_profiled.customer_name,
        active_customers.revenue_ttm,
        coalesce(customers_profiled.in_tcp, false) as in_tcp,
        coalesce(summaries.offerings_owned, 0) as offerings_owned,
        coalesce(summaries.full_package_components_owned, 0)
            as full_package_components_owned,
        -- A catalogue without full-package components has no full package.
        coalesce(
            summaries.full_package_components > 0
            and summaries.full_package_components_owned
            = summaries.full_package_components,
            false
        ) as is_on_full_package,
        coalesce(summaries.whitespace_offerings, 0) as whitespace_offerings,
        cast(coalesce(summaries.whitespace_revenue, 0) as decimal(38, 4))
            as whitespace_revenue,
        {%- for revenue_type in revenue_types %}
        coalesce(summaries.owns_{{ revenue_type }}, false)
            as owns_{{ revenue_type }},
        {%- endfor %}
        coalesce(summaries.owns_legacy_offering, false)
            as owns_legacy_offering
    from active_customers
    left join customers_profiled
        on active_customers.customer_id = customers_profiled.customer_id
    left join customer_offerings_summarised as summaries
        on
            active_customers.as_of_month = summaries.as_of_month
            and active_customers.customer_id = summaries.customer_id
),

-- The first profile that applies, in this order (see the docs block).
customer_cross_sell_profiled as (
    select
        *,
        case
            when is_on_full_package then 'full_package'
            when owns_mrr then 'legacy_mrr'
            when owns_block_time then 'block_time'
            when owns_t_and_m then 't_and_m'
            when owns_project_labor then 'project_only'
            when owns_product_resale then 'product_only'
            else 'other'
        end as agreement_profile
    from customer_cross_sell
)

select * from customer_cross_sell_profiled
