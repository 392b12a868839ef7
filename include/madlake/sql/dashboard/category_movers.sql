-- Movers of a category in its newest index month: growth of the score against the month before (relative to the
-- category, over the signals present in both months) and the change of rank.
-- params: category
with p as (select ? as category),
c as (select i.* from popularity_index i join p on i.category = p.category),
latest as (select max(month) as month from c)
select cur.tool_id, cur.month, cur.score, cur.coverage, cur.n_signals, cur.growth_mom, cur.growth_yoy,
       cur.growth_yoy_spans_break, cur.rank_in_category, prev.rank_in_category - cur.rank_in_category as rank_change_1m
from c cur
join latest l on cur.month = l.month
left join c prev on prev.tool_id = cur.tool_id and prev.month = cast(date_add('month', -1, l.month) as date)
order by abs(coalesce(cur.growth_mom, 0)) desc, cur.tool_id
limit 8
