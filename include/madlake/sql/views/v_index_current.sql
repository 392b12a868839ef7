-- v_index_current: the popularity index of the newest method version with tool names (one row per month, category and
-- tool), and per category the month the MAD answers are as of (answer_month): the newest month with PyPI downloads for
-- some tool of the category (the one signal covering every month since 2018-02), else its newest month.
with current_index as (
    select p.*, t.name as tool_name, t.open_source
    from popularity_index as p
    inner join dim_tools as t on t.tool_id = p.tool_id
    where p.method_version = (select max(method_version) from popularity_index)
),

answer_months as (
    select
        category,
        coalesce(max(case when downloads_index is not null then month end), max(month)) as answer_month
    from current_index
    group by category
)

select c.*, a.answer_month
from current_index as c
inner join answer_months as a on a.category = c.category
