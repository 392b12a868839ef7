-- Breakouts (two or more signals above 2 sigma of their trailing mean) in the days before the newest one.
-- params: days
with p as (select ? as days),
latest as (select max(metric_date) as metric_date from tool_breakouts)
select b.metric_date, b.tool_id, d.name, d.primary_category, b.signals, b.n_signals, b.zscores
from tool_breakouts b
cross join p
cross join latest l
join dim_tools d on d.tool_id = b.tool_id
where b.metric_date <= l.metric_date and date_diff('day', b.metric_date, l.metric_date) < p.days
order by b.metric_date desc, b.n_signals desc, b.tool_id
limit 20
