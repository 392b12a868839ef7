-- The data date of the dashboard, whether any gold row of that date is generated sample data, and the index method.
with latest as (select max(metric_date) as data_date from tool_daily_metrics),
idx as (select max(month) as index_month from popularity_index)
select l.data_date,
       coalesce(bool_or(m.is_sample), false) as is_sample,
       count(distinct m.tool_id) as tools,
       (select index_month from idx) as index_month,
       (select max(i.method_version) from popularity_index i join idx on i.month = idx.index_month) as method_versions
from latest l
left join tool_daily_metrics m on m.metric_date = l.data_date
group by l.data_date
