-- question: Which file formats are rising and which are falling year over year?
-- method: popularity index v2, category file_format, newest month whose year-over-year growth includes
-- downloads (else the newest month with a growth): rising when growth
-- relative to the category is above +5 %, falling below -5 %, else flat; computed over the signals present in both
-- months (compared_on) and flagged when a PyPI method break lies between them.
with candidates as (
    select p.*, t.name as tool_name
    from popularity_index as p
    inner join dim_tools as t on t.tool_id = p.tool_id
    where p.category = 'file_format'
        and p.method_version = (select max(method_version) from popularity_index) and p.growth_yoy is not null
),

as_of as (
    select coalesce(max(case when growth_yoy_signals like '%downloads%' then month end), max(month)) as month
    from candidates
),

final as (
    select
        c.tool_name,
        c.tool_id,
        case
            when c.growth_yoy > 0.05 then 'rising'
            when c.growth_yoy < -0.05 then 'falling'
            else 'flat'
        end as trend,
        round(c.growth_yoy * 100, 1) as growth_yoy_pct,
        c.growth_yoy_signals as compared_on,
        c.growth_yoy_spans_break as spans_break,
        round(c.downloads_share_yoy * 100, 1) as downloads_share_yoy_pct,
        round(c.score, 1) as score,
        c.n_signals,
        c.month,
        cast(date_add('month', -12, c.month) as date) as compared_with,
        c.is_sample
    from candidates as c
    inner join as_of as a on a.month = c.month
)

select * from final
order by growth_yoy_pct desc, tool_id
