-- Revenue is a sum of non-negative amounts: a negative day means bad data got through.
select ds, revenue
from {{ ref('daily_revenue') }}
where revenue < 0
