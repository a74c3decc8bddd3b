-- Grain: one row per order per logical date.
select
    ds,
    order_id,
    ds::text || ':' || order_id::text as order_key,
    customer_id,
    order_date,
    amount,
    lower(status) as status,
    source_line,
    loaded_at
from {{ source('warehouse', 'orders') }}
