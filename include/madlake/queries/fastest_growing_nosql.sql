-- question: What is the fastest-growing NoSQL database?
-- method: growth of the popularity index score in the latest month, category nosql_database: year over year when a
-- year of history exists, else the 3-month CAGR (monthly rate); growth_basis says which.
with latest as (
    select max(month) as month from v_popularity_index where category = 'nosql_database'
),

final as (
    select
        p.tool_name,
        round(coalesce(p.growth_yoy, power(1 + p.cagr_3m, 12) - 1, p.growth_mom) * 100, 1) as growth_pct,
        case
            when p.growth_yoy is not null then 'year over year'
            when p.cagr_3m is not null then '3-month CAGR, annualized'
            else 'month over month'
        end as growth_basis,
        round(p.score, 1) as score,
        p.rank_in_category,
        p.as_of_date,
        p.is_sample
    from v_popularity_index as p
    inner join latest as l on l.month = p.month
    where p.category = 'nosql_database' and p.score > 0
)

select * from final
where growth_pct is not null
order by growth_pct desc, tool_name
limit 5
