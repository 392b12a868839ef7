-- Monthly signals of every tool in its primary category, for the compare page (the page picks 2-5 tools) and the
-- overview's tool list (the newest month per tool). Downloads are per day (windows differ between PyPI methods).
select i.month, i.tool_id, i.score, i.coverage, i.n_signals, i.rank_in_category, i.growth_yoy,
       i.downloads_value as downloads_per_day, i.stars_value as stars, i.mentions_value as mentions,
       i.downloads_share
from popularity_index i
join dim_tools d on d.tool_id = i.tool_id and d.primary_category = i.category
order by i.tool_id, i.month
