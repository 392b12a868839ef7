-- The monthly popularity index (v2) of one tool in each of its categories: score, coverage, signals present, and
-- every signal's value, index and source.
-- params: tool_id
select month, category, method_version, score, coverage, n_signals, signals,
       downloads_value, downloads_index, downloads_source, stars_value, stars_index, stars_source,
       mentions_value, mentions_index, mentions_source, downloads_method, downloads_share, downloads_below_list,
       rank_in_category, growth_mom, growth_yoy, growth_yoy_spans_break, cagr_3m, is_sample
from popularity_index
where tool_id = ?
order by category, month
