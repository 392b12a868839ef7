-- The monthly popularity index of one tool in each of its categories, with every signal's contribution.
-- params: tool_id
select month, category, score, downloads_component, mentions_component, stars_component, new_stars_component,
       rank_in_category, growth_mom, growth_yoy, cagr_3m, method_version
from popularity_index
where tool_id = ?
order by category, month
