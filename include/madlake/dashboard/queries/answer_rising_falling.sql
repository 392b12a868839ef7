-- Every tool of a category with its growth in the newest month: year over year, or the 3-month CAGR (per month)
-- while the index is younger than a year. Rising first, falling last.
-- params: category
with p as (select ? as category),
latest as (select max(month) as month from popularity_index)
select i.tool_id, d.name, i.month, i.score, i.growth_yoy, i.cagr_3m,
       coalesce(i.growth_yoy, i.cagr_3m) as growth,
       case when i.growth_yoy is not null then 'year over year' else '3-month CAGR' end as growth_basis
from popularity_index i
join p on i.category = p.category
join latest l on i.month = l.month
join dim_tools d on d.tool_id = i.tool_id
where coalesce(i.growth_yoy, i.cagr_3m) is not null
order by growth desc, i.tool_id
