-- The top 3 tools of a category today and N months earlier. When the index does not reach that far back, the oldest
-- month on record stands in and target_then_month says which month was asked for.
-- Months are compared as year * 12 + month so the same text runs on DuckDB and Athena.
-- params: category, months_back
with p as (select ? as category, ? as months_back),
bounds as (
    select max(extract(year from month) * 12 + extract(month from month)) as now_idx,
           min(extract(year from month) * 12 + extract(month from month)) as first_idx
    from popularity_index
),
target as (
    select b.now_idx, b.now_idx - p.months_back as wanted_idx,
           greatest(b.first_idx, b.now_idx - p.months_back) as then_idx
    from bounds b cross join p
),
indexed as (
    select i.*, extract(year from i.month) * 12 + extract(month from i.month) as month_idx
    from popularity_index i join p on i.category = p.category
)
select case when i.month_idx = t.now_idx then 'now' else 'then' end as period,
       i.month, i.rank_in_category, i.tool_id, d.name, i.score,
       t.then_idx = t.wanted_idx as then_is_target
from indexed i
cross join target t
join dim_tools d on d.tool_id = i.tool_id
where (i.month_idx = t.now_idx or i.month_idx = t.then_idx) and i.rank_in_category <= 3
order by period, i.rank_in_category
