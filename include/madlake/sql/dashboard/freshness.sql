-- The newest freshness measurement: per table and source, the last successful load, the lags, and the period the
-- data covers (oldest and newest data date, number of distinct data dates).
with latest as (select max(check_date) as check_date from source_freshness)
select f.table_name, f.source, f.last_load_at, f.last_dag_id, f.loads, f.table_rows, f.data_column,
       f.oldest_data_date, f.newest_data_date, f.data_periods, f.load_lag_hours, f.data_lag_days, f.checked_at
from source_freshness f
join latest l on f.check_date = l.check_date
order by f.table_name, f.source
