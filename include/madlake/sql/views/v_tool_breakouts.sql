-- v_tool_breakouts: breakout days with the tool's name and primary category.
select
    b.metric_date,
    b.tool_id,
    t.name as tool_name,
    t.primary_category,
    b.signals,
    b.n_signals,
    b.zscores,
    b.is_sample
from tool_breakouts as b
inner join dim_tools as t on t.tool_id = b.tool_id
