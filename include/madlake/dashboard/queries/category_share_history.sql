-- Each tool's share of its category in one signal, on the first day of every month and on the data date.
-- params: category, signal
with p as (select ? as category, ? as signal),
latest as (select max(metric_date) as metric_date from category_daily_rankings)
select r.metric_date, r.tool_id, r.share, r.rank
from category_daily_rankings r
join p on r.category = p.category and r.signal = p.signal
cross join latest l
where extract(day from r.metric_date) = 1 or r.metric_date = l.metric_date
order by r.metric_date, r.rank, r.tool_id
