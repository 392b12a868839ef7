-- Every month of a category's popularity index: each tool's rank, score, share of the category's downloads within
-- the same snapshot, and the signals it was judged on.
-- params: category
select i.month, i.tool_id, i.rank_in_category, i.score, i.downloads_share, i.coverage, i.n_signals, i.signals
from popularity_index i
where i.category = ?
order by i.month, i.rank_in_category, i.tool_id
