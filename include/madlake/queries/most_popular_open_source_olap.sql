-- question: What is the most popular open-source OLAP database?
-- method: popularity index (method v1, docs/metrics.md) of the latest month, category olap_database, open source only.
with latest as (
    select max(month) as month from v_popularity_index where category = 'olap_database'
),

final as (
    select
        p.rank_in_category,
        p.tool_name,
        round(p.score, 1) as score,
        round(p.downloads_component, 1) as downloads_pts,
        round(p.mentions_component, 1) as mentions_pts,
        round(p.stars_component, 1) as stars_pts,
        round(p.new_stars_component, 1) as new_stars_pts,
        p.as_of_date,
        p.is_sample
    from v_popularity_index as p
    inner join latest as l on l.month = p.month
    where p.category = 'olap_database' and p.open_source and p.score > 0
)

select * from final
order by rank_in_category
limit 5
