-- Every daily signal of one tool, one point a week (and the data date), for its time-series charts.
-- params: tool_id
with p as (select ? as tool_id),
latest as (select max(metric_date) as metric_date from tool_daily_metrics)
select m.metric_date, m.downloads_7d, m.downloads_28d, m.mentions_28d, m.sentiment_28d, m.positive_share_28d,
       m.negative_share_28d, m.stars, m.new_stars_28d, m.forks, m.open_issues, m.releases_90d
from tool_daily_metrics m
join p on m.tool_id = p.tool_id
cross join latest l
where date_diff('day', date '2000-01-02', m.metric_date) % 7 = 0 or m.metric_date = l.metric_date
order by m.metric_date
