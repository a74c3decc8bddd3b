-- Grain: one row per logical date.
select
    ds,
    count(*)::bigint as orders,
    sum(amount)::numeric(14,2) as revenue
from {{ ref('stg_orders') }}
group by ds
