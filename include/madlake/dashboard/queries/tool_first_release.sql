-- The first day each tool shows any activity (downloads or stars): the anchor of "align by first release".
select tool_id, min(metric_date) as first_day
from tool_daily_metrics
where coalesce(downloads, 0) > 0 or coalesce(stars, 0) > 0
group by tool_id
order by tool_id
