-- Every event of one tool (tool_events), newest first: news and the artefacts that explain a jump.
-- params: tool_id
select month, kind, category, is_news, headline, event_id
from tool_events
where tool_id = ?
order by month desc, is_news desc, kind, category
limit 200
