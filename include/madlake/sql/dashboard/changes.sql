-- The "what changed" page and the watchlist feeds: every event, newest period first.
select e.month, e.tool_id, d.name, e.kind, e.category, e.is_news, e.headline, e.details, e.link, e.event_id,
    e.score, e.previous_score, e.rank, e.previous_rank, e.is_sample
from tool_events e
left join dim_tools d on d.tool_id = e.tool_id
order by e.month desc, e.is_news desc, e.category, e.tool_id, e.kind
