-- The first month each tool shows downloads or stars: the anchor of the compare page's "align by first release".
select tool_id, min(month) as first_day
from tool_monthly_metrics
where downloads is not null or downloads_below_list or stars is not null
group by tool_id
order by tool_id
