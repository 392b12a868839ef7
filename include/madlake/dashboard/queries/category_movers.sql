-- Movers of a category in its newest index month: growth of the score against the month before (relative to the
-- category, over the signals present in both months) and the change of rank.
-- params: category
with p as (select ? as category),
indexed as (
    select i.*, extract(year from i.month) * 12 + extract(month from i.month) as month_idx
    from popularity_index i join p on i.category = p.category
),
cur as (select * from indexed where month_idx = (select max(month_idx) from indexed)),
prev as (select * from indexed where month_idx = (select max(month_idx) - 1 from indexed))
select c.tool_id, c.month, c.score, c.coverage, c.n_signals, c.growth_mom, c.growth_yoy, c.growth_yoy_spans_break,
       c.rank_in_category, prev.rank_in_category - c.rank_in_category as rank_change_1m
from cur c
left join prev on prev.tool_id = c.tool_id
order by abs(coalesce(c.growth_mom, 0)) desc, c.tool_id
limit 8
