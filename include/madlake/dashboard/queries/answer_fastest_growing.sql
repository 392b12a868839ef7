-- The fastest-growing tools of a category in the newest month of the popularity index, defined as in the analyst
-- query fastest_growing_nosql.sql: year-over-year growth of the score when a year of history exists, else the
-- 3-month CAGR annualized, else month over month; growth_basis says which.
-- params: category
with p as (select ? as category),
latest as (select max(month) as month from popularity_index)
select i.tool_id, d.name, i.month, i.score, i.growth_yoy, i.cagr_3m, i.growth_mom,
       coalesce(i.growth_yoy, power(1 + i.cagr_3m, 12) - 1, i.growth_mom) as growth,
       case
           when i.growth_yoy is not null then 'year over year'
           when i.cagr_3m is not null then '3-month CAGR, annualized'
           else 'month over month'
       end as growth_basis
from popularity_index i
join p on i.category = p.category
join latest l on i.month = l.month
join dim_tools d on d.tool_id = i.tool_id
where i.score > 0 and coalesce(i.growth_yoy, i.cagr_3m, i.growth_mom) is not null
order by growth desc, i.tool_id
limit 5
