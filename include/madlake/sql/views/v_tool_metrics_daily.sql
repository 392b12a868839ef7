-- v_tool_metrics_daily: tool_daily_metrics with the tool's name, primary category and open-source flag.
select
    m.metric_date,
    m.tool_id,
    t.name as tool_name,
    t.primary_category,
    t.open_source,
    m.downloads,
    m.downloads_excl_ci,
    m.downloads_7d,
    m.downloads_28d,
    m.mentions,
    m.mentions_28d,
    m.sentiment_28d,
    m.positive_share_28d,
    m.negative_share_28d,
    m.stars,
    m.new_stars,
    m.new_stars_28d,
    m.forks,
    m.open_issues,
    m.releases_90d,
    m.is_sample
from tool_daily_metrics as m
inner join dim_tools as t on t.tool_id = m.tool_id
