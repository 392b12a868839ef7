-- The first month each tool shows any activity (downloads or stars) in the popularity index: the anchor of the
-- compare page's "align by first release" (its series are monthly too).
select tool_id, min(month) as first_day
from popularity_index
where coalesce(downloads_value, 0) > 0 or coalesce(stars_value, 0) > 0
group by tool_id
order by tool_id
