-- Each customer's payments of the run's day (var ds), customers without any at 0.
select
    c.customer_id,
    c.name,
    c.country,
    count(p.payment_id) as payments,
    coalesce(sum(p.amount), 0) as revenue
from {{ source('examples', 'customers') }} c
left join {{ source('examples', 'payments') }} p
    on p.customer_id = c.customer_id and p.ds = '{{ var("ds") }}'::date
group by c.customer_id, c.name, c.country
