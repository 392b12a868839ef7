-- Every tool of a category in the newest month with its trend, defined as in the analyst query
-- file_formats_rising_falling.sql: the 3-month CAGR of the score (rising above +1 %/month, falling below -1 %/month).
-- params: category
with p as (select ? as category),
latest as (select max(month) as month from popularity_index)
select i.tool_id, d.name, i.month, i.score, i.cagr_3m, i.growth_mom, i.growth_yoy,
       case
           when i.cagr_3m > 0.01 then 'rising'
           when i.cagr_3m < -0.01 then 'falling'
           when i.cagr_3m is null then 'unknown'
           else 'flat'
       end as trend
from popularity_index i
join p on i.category = p.category
join latest l on i.month = l.month
join dim_tools d on d.tool_id = i.tool_id
order by i.cagr_3m desc nulls last, i.tool_id
