-- How PyPI counted each month's downloads (the method of most tools that month): the dashboard marks a break on its
-- charts where the method changes (pip-only 30-day windows, all installers, shrinking windows, calendar months).
select month, downloads_method, count(*) as tools
from tool_monthly_metrics
where downloads_method is not null
group by month, downloads_method
order by month, tools desc, downloads_method
