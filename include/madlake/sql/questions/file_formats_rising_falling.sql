-- question: Which file formats are rising and which are falling year over year?
-- category: file_format
-- method: popularity index v2, category file_format, newest month whose year-over-year growth includes
-- downloads (else the newest month with a growth; view v_index_growth_yoy): rising when growth
-- relative to the category is above +5 %, falling below -5 %, else flat; computed over the signals present in both
-- months (compared_on) and flagged when a PyPI method break lies between them.
select
    tool_name,
    tool_id,
    case
        when growth_yoy > 0.05 then 'rising'
        when growth_yoy < -0.05 then 'falling'
        else 'flat'
    end as trend,
    growth_yoy_pct,
    compared_on,
    spans_break,
    downloads_share_yoy_pct,
    score,
    n_signals,
    month,
    compared_with,
    is_sample
from v_index_growth_yoy
where category = 'file_format'
order by growth_yoy_pct desc, tool_id
