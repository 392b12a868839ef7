-- question: What is the fastest-growing NoSQL database over 12 months?
-- category: nosql_database
-- method: popularity index v2, category nosql_database, newest month whose year-over-year growth includes
-- downloads (else the newest month with a growth) for some tool (view v_index_growth_yoy):
-- growth_yoy is relative to the category (10^(d/25) - 1, d = weighted change of the signals' indexes present in
-- both months); spans_break = a PyPI counting-method change lies between the two months; downloads_share_yoy_pct =
-- change of the tool's share of the category's downloads, each share within its own snapshot.
select
    cast(row_number() over (order by growth_yoy desc, tool_id) as integer) as rank,
    tool_name,
    tool_id,
    growth_yoy_pct,
    compared_on,
    spans_break,
    downloads_share_yoy_pct,
    score,
    n_signals,
    coverage,
    month,
    compared_with,
    is_sample
from v_index_growth_yoy
where category = 'nosql_database'
order by rank
limit 5
