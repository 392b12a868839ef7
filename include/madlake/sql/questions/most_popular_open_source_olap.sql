-- question: What is the most popular open-source OLAP database?
-- category: olap_database
-- method: popularity index v2 (docs/metrics.md), category olap_database, open-source tools, in the newest month with
-- PyPI downloads (the one signal covering every month since 2018-02; else the newest month; view v_index_current).
-- The score is the weighted mean of the present signals' indexes (leader = 100 on a log scale); basis says when a tool
-- is judged on one signal only.
select
    cast(row_number() over (order by score desc, tool_id) as integer) as rank,
    tool_name,
    tool_id,
    round(score, 1) as score,
    n_signals,
    round(coverage, 2) as coverage,
    signals,
    round(downloads_share, 3) as downloads_share,
    downloads_method,
    case when n_signals = 1 then 'judged on one signal only' else 'signals: ' || signals end as basis,
    month,
    as_of_date,
    is_sample
from v_index_current
where category = 'olap_database' and open_source and month = answer_month
order by rank
limit 5
