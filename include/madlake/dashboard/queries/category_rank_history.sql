-- Monthly rank and popularity score of every tool of a category.
-- params: category
select i.month, i.tool_id, i.rank_in_category, i.score
from popularity_index i
where i.category = ?
order by i.month, i.rank_in_category, i.tool_id
