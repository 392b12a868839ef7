-- A category on the data date: every tool's value, share, rank and rank change for every signal.
-- params: category
with p as (select ? as category),
latest as (select max(metric_date) as metric_date from category_daily_rankings)
select r.metric_date, r.tool_id, r.signal, r.value, r.share, r.rank, r.rank_change_28d, r.rank_change_365d
from category_daily_rankings r
join p on r.category = p.category
join latest l on r.metric_date = l.metric_date
order by r.signal, r.rank, r.tool_id
