-- A category in its newest index month: every tool with its score, what it is based on (signals, coverage, source
-- per signal, PyPI method, below the list's cut-off and that cut-off) and its growth.
-- params: category
with p as (select ? as category),
latest as (
    select max(i.month) as month from popularity_index i join p on i.category = p.category
)
select i.tool_id, d.name, i.month, i.score, i.coverage, i.n_signals, i.signals, i.rank_in_category,
       i.downloads_value, i.downloads_source, i.downloads_method, i.downloads_share, i.downloads_below_list,
       m.downloads_list_min, i.stars_value, i.stars_source, i.mentions_value, i.mentions_source,
       i.growth_mom, i.growth_yoy, i.growth_yoy_spans_break, i.cagr_3m
from popularity_index i
join p on i.category = p.category
join latest l on i.month = l.month
join dim_tools d on d.tool_id = i.tool_id
left join tool_monthly_metrics m on m.tool_id = i.tool_id and m.month = i.month
order by i.rank_in_category, i.tool_id
