-- The most popular open-source tools of a category in the newest month of the popularity index.
-- params: category
with p as (select ? as category),
latest as (select max(month) as month from popularity_index)
select i.tool_id, d.name, i.month, i.score, i.rank_in_category, i.growth_yoy, i.method_version
from popularity_index i
join p on i.category = p.category
join latest l on i.month = l.month
join dim_tools d on d.tool_id = i.tool_id
where d.open_source
order by i.score desc, i.tool_id
limit 5
