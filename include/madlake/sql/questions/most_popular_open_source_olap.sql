-- question: What is the most popular open-source OLAP database?
-- category: olap_database
-- method: popularity index v2 (docs/metrics.md), category olap_database, open-source tools, in the newest month with
-- PyPI downloads (the one signal covering every month since 2018-02; else the newest month). The score is the
-- weighted mean of the present signals' indexes (leader = 100 on a log scale); basis says when a tool is judged on
-- one signal only.
with candidates as (
    select p.*, t.name as tool_name
    from popularity_index as p
    inner join dim_tools as t on t.tool_id = p.tool_id
    where p.category = 'olap_database'
        and p.method_version = (select max(method_version) from popularity_index) and t.open_source
),

as_of as (
    select coalesce(max(case when downloads_index is not null then month end), max(month)) as month from candidates
),

final as (
    select
        cast(row_number() over (order by c.score desc, c.tool_id) as integer) as rank,
        c.tool_name,
        c.tool_id,
        round(c.score, 1) as score,
        c.n_signals,
        round(c.coverage, 2) as coverage,
        c.signals,
        round(c.downloads_share, 3) as downloads_share,
        c.downloads_method,
        case when c.n_signals = 1 then 'judged on one signal only' else 'signals: ' || c.signals end as basis,
        c.month,
        c.as_of_date,
        c.is_sample
    from candidates as c
    inner join as_of as a on a.month = c.month
)

select * from final
order by rank
limit 5
