-- Every breakout of one tool, newest first.
-- params: tool_id
select metric_date, signals, n_signals, zscores
from tool_breakouts
where tool_id = ?
order by metric_date desc
limit 20
