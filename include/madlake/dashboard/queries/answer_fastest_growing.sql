-- The fastest-growing tools of a category: year-over-year growth of the popularity score in the newest month
-- (3-month CAGR breaks ties and covers tools younger than a year).
-- params: category
with p as (select ? as category),
latest as (select max(month) as month from popularity_index)
select i.tool_id, d.name, i.month, i.score, i.growth_yoy, i.cagr_3m, i.growth_mom
from popularity_index i
join p on i.category = p.category
join latest l on i.month = l.month
join dim_tools d on d.tool_id = i.tool_id
order by coalesce(i.growth_yoy, i.cagr_3m) desc nulls last, i.cagr_3m desc nulls last
limit 5
