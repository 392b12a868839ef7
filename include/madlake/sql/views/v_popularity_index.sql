-- v_popularity_index: the monthly popularity index with tool names; one row per month, category and tool.
select
    p.month,
    p.as_of_date,
    p.category,
    p.rank_in_category,
    p.tool_id,
    t.name as tool_name,
    t.open_source,
    p.method_version,
    p.score,
    p.downloads_component,
    p.mentions_component,
    p.stars_component,
    p.new_stars_component,
    p.downloads_value,
    p.mentions_value,
    p.stars_value,
    p.new_stars_value,
    p.growth_mom,
    p.growth_yoy,
    p.cagr_3m,
    p.is_sample
from popularity_index as p
inner join dim_tools as t on t.tool_id = p.tool_id
