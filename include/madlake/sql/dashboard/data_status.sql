-- The months the dashboard covers, how many tools, the index method, and whether any row it shows is generated
-- sample data (the "sample data" banner): every page shows rows of tool_monthly_metrics and popularity_index.
with m as (
    select min(month) as first_month, max(month) as data_month, count(distinct tool_id) as tools,
           coalesce(bool_or(is_sample), false) as sample_monthly, count(*) filter (where is_sample) as sample_rows
    from tool_monthly_metrics
),
i as (
    select coalesce(bool_or(is_sample), false) as sample_index, count(*) filter (where is_sample) as sample_index_rows,
           max(month) as index_month, array_join(array_agg(distinct method_version), ', ') as method_versions
    from popularity_index
)
select m.first_month, m.data_month, m.tools, m.sample_rows, i.sample_index_rows, i.index_month, i.method_versions,
       m.sample_monthly or i.sample_index as is_sample
from m cross join i
