-- What a category's index rows of one month are based on (the answers cite it): signals present, coverage, source per
-- signal, PyPI method and whether the downloads were below the list's cut-off.
-- params: category, month
select i.tool_id, d.name, i.month, i.score, i.coverage, i.n_signals, i.signals, i.rank_in_category,
       i.downloads_source, i.downloads_method, i.downloads_below_list, i.stars_source, i.mentions_source,
       i.growth_yoy, i.growth_yoy_spans_break
from popularity_index i
join dim_tools d on d.tool_id = i.tool_id
where i.category = ? and i.month = ?
order by i.rank_in_category, i.tool_id
