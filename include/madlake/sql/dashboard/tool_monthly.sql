-- Every month of one tool's signals with the source each came from (null = no data that month, never 0).
-- params: tool_id
select month, downloads, downloads_per_day, downloads_source, downloads_method, downloads_below_list,
       downloads_list_min, stars, new_stars, forks, open_issues, contributors, stars_source, mentions,
       mentions_source, sentiment, reddit_texts, is_sample
from tool_monthly_metrics
where tool_id = ?
order by month
