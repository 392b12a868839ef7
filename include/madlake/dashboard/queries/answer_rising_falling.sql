-- Every tool of a category with its year-over-year growth in the newest month: rising first, falling last.
-- params: category
with p as (select ? as category),
latest as (select max(month) as month from popularity_index)
select i.tool_id, d.name, i.month, i.score, i.growth_yoy, i.cagr_3m
from popularity_index i
join p on i.category = p.category
join latest l on i.month = l.month
join dim_tools d on d.tool_id = i.tool_id
where i.growth_yoy is not null
order by i.growth_yoy desc, i.tool_id
