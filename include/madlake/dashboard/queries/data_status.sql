-- The data date of the dashboard and whether any gold row of that date is generated sample data.
with latest as (select max(metric_date) as data_date from tool_daily_metrics)
select l.data_date,
       coalesce(bool_or(m.is_sample), false) as is_sample,
       count(distinct m.tool_id) as tools,
       (select max(month) from popularity_index) as index_month
from latest l
left join tool_daily_metrics m on m.metric_date = l.data_date
group by l.data_date
