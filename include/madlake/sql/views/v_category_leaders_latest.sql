-- v_category_leaders_latest: each category's ranking in the latest month of the popularity index.
with latest as (
    select max(month) as month from popularity_index
),

final as (
    select
        p.category,
        p.rank_in_category,
        p.tool_id,
        t.name as tool_name,
        p.score,
        p.growth_mom,
        p.growth_yoy,
        p.cagr_3m,
        p.month,
        p.as_of_date,
        p.is_sample
    from popularity_index as p
    inner join latest as l on l.month = p.month
    inner join dim_tools as t on t.tool_id = p.tool_id
)

select * from final
