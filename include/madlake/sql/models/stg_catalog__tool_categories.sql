-- stg_catalog__tool_categories: one row per (tool, category); a tool listed in several categories competes in each.
with source as (
    select tool_id, categories from dim_tools
),

final as (
    select
        s.tool_id,
        c.category
    from source as s
    cross join unnest(s.categories) as c (category)
)

select * from final
