-- v_category_rankings_daily: category_daily_rankings with tool names (share, rank and rank changes per signal).
select
    r.metric_date,
    r.category,
    r.signal,
    r.rank,
    r.tool_id,
    t.name as tool_name,
    r.value,
    r.share,
    r.rank_change_28d,
    r.rank_change_365d,
    r.is_sample
from category_daily_rankings as r
inner join dim_tools as t on t.tool_id = r.tool_id
