-- fct_tool_monthly_metrics -> tool_monthly_metrics: one row per (month, tool) of the run, every signal from the best
-- source there is for that month (docs/metrics.md, v2). Nothing dated after the month is read, except the monthly
-- PyPI snapshot describing it (published a few days after the month ends).
-- * downloads: daily pypi_downloads when the month has any loaded day (sum of the loaded days; downloads_days says
--   how many), else the monthly snapshot chosen for the month (stg_pypi__downloads_monthly). below_list = under the
--   snapshot's smallest count: downloads null, list minimum kept. downloads_per_day = downloads / days counted.
-- * stars (end of month): GitHub API snapshots (last snapshot of the month), else the stargazer backfill
--   (cumulative stars on the last star day), else github_repo_history (last observed day); one source per tool and
--   month, summed over the tool's repositories seen in that source. new_stars: the backfill's sum, else the
--   difference with the previous month per repository seen in the same source both months.
-- * mentions: reddit_mentions of the month when Reddit texts were ingested that month (0 = covered, none); null when
--   the month has no Reddit coverage. sentiment: mention-weighted mean.
with months as (
    select month, month_end from int_months
),

tools as (
    select tool_id, primary_category, has_pypi, has_github from stg_catalog__tools
),

-- ---------------------------------------------------------------- downloads
daily_days as (
    select
        cast(date_trunc('month', download_date) as date) as month,
        count(distinct download_date) as days,
        bool_or(is_sample) as is_sample
    from stg_pypi__downloads
    group by cast(date_trunc('month', download_date) as date)
),

daily_tool as (
    select
        cast(date_trunc('month', d.download_date) as date) as month,
        k.tool_id,
        sum(d.downloads) as downloads
    from stg_pypi__downloads as d
    inner join stg_catalog__tool_packages as k on k.project = d.project
    group by cast(date_trunc('month', d.download_date) as date), k.tool_id
),

snapshot_months as (
    select
        month,
        max(snapshot_date) as snapshot_date,
        max(method) as method,
        max(window_days) as window_days,
        max(list_min_downloads) as list_min_downloads,
        bool_or(is_sample) as is_sample
    from stg_pypi__downloads_monthly
    group by month
),

snapshot_tool as (
    select
        d.month,
        k.tool_id,
        sum(d.downloads) as downloads,
        -- a tool is below the list only when every one of its packages is (a listed package gives a lower bound)
        bool_and(d.below_list) as below_list,
        count(*) as packages_in_snapshot
    from stg_pypi__downloads_monthly as d
    inner join stg_catalog__tool_packages as k on k.project = d.project
    group by d.month, k.tool_id
),

downloads as (
    select
        m.month,
        t.tool_id,
        case
            when dd.days is not null then coalesce(dt.downloads, 0)
            when sm.month is not null and st.below_list = false then st.downloads
        end as downloads,
        case
            when dd.days is not null then cast(dd.days as integer)
            when sm.month is not null and st.below_list = false then sm.window_days
        end as downloads_days,
        case
            when dd.days is not null then 'pypi_downloads'
            when sm.month is not null then 'pypi_downloads_monthly'
        end as downloads_source,
        case when dd.days is not null then 'daily' when sm.month is not null then sm.method end as downloads_method,
        case when dd.days is null and sm.month is not null then st.below_list end
            as downloads_below_list,
        case when dd.days is null and sm.month is not null then sm.list_min_downloads end as downloads_list_min,
        case when dd.days is null then sm.snapshot_date end as downloads_snapshot_date,
        coalesce(dd.is_sample, sm.is_sample, false) as is_sample
    from months as m
    cross join tools as t
    left join daily_days as dd on dd.month = m.month
    left join daily_tool as dt on dt.month = m.month and dt.tool_id = t.tool_id
    left join snapshot_months as sm on sm.month = m.month
    left join snapshot_tool as st on st.month = m.month and st.tool_id = t.tool_id
    where t.has_pypi
),

-- ---------------------------------------------------------------- GitHub
repo_months as (
    select
        cast(date_trunc('month', snapshot_date) as date) as month,
        tool_id,
        repo,
        max(snapshot_date) as day,
        max_by(stars, snapshot_date) as stars,
        cast(null as bigint) as new_stars,
        max_by(forks, snapshot_date) as forks,
        max_by(open_issues, snapshot_date) as open_issues,
        max_by(contributors, snapshot_date) as contributors,
        'github_repo_snapshots' as source,
        1 as priority,
        bool_or(is_sample) as is_sample
    from stg_github__repo_snapshots
    group by cast(date_trunc('month', snapshot_date) as date), tool_id, repo
    union all
    select
        month, tool_id, repo, day, stars, new_stars,
        cast(null as bigint) as forks, cast(null as bigint) as open_issues, cast(null as bigint) as contributors,
        'github_stars_daily' as source, 2 as priority, is_sample
    from stg_github__stars_monthly
    union all
    select
        month, tool_id, repo, day, stars, cast(null as bigint) as new_stars, forks, open_issues, contributors,
        'github_repo_history' as source, 3 as priority, is_sample
    from stg_github__repo_history
),

repo_changes as (
    select
        cur.*,
        coalesce(cur.new_stars, cur.stars - prev.stars) as month_new_stars
    from repo_months as cur
    left join repo_months as prev
        on
            prev.month = cast(date_add('month', -1, cur.month) as date)
            and prev.repo = cur.repo
            and prev.source = cur.source
),

best_source as (
    select month, tool_id, min(priority) as priority
    from repo_months
    group by month, tool_id
),

github as (
    select
        r.month,
        r.tool_id,
        sum(r.stars) as stars,
        sum(r.month_new_stars) as new_stars,
        sum(r.forks) as forks,
        sum(r.open_issues) as open_issues,
        sum(r.contributors) as contributors,
        max(r.source) as stars_source,
        max(r.day) as stars_as_of,
        bool_or(r.is_sample) as is_sample
    from repo_changes as r
    inner join best_source as b on b.month = r.month and b.tool_id = r.tool_id and b.priority = r.priority
    group by r.month, r.tool_id
),

-- ---------------------------------------------------------------- Reddit
reddit_texts as (
    select month, texts from int_reddit__texts_monthly
),

mention_months as (
    select
        cast(date_trunc('month', mention_date) as date) as month,
        tool_id,
        sum(mentions) as mentions,
        sum(scored_mentions) as scored_mentions,
        sum(sentiment_sum) as sentiment_sum,
        bool_or(is_sample) as is_sample
    from stg_reddit__mentions
    group by cast(date_trunc('month', mention_date) as date), tool_id
),

reddit_coverage as (
    select
        m.month,
        coalesce(rt.texts, 0) > 0 or exists (select 1 from mention_months as mm where mm.month = m.month) as covered,
        rt.texts
    from months as m
    left join reddit_texts as rt on rt.month = m.month
),

final as (
    select
        m.month,
        t.tool_id,
        t.primary_category,
        d.downloads,
        round(cast(d.downloads as double) / nullif(d.downloads_days, 0), 3) as downloads_per_day,
        d.downloads_source,
        d.downloads_method,
        d.downloads_below_list,
        d.downloads_list_min,
        g.stars,
        g.new_stars,
        g.forks,
        g.open_issues,
        g.contributors,
        g.stars_source,
        case when rc.covered then coalesce(mm.mentions, 0) end as mentions,
        case when rc.covered then 'reddit_mentions' end as mentions_source,
        round(mm.sentiment_sum / nullif(cast(mm.scored_mentions as double), 0), 6) as sentiment,
        case when rc.covered then rc.texts end as reddit_texts,
        (coalesce(d.is_sample, false) or coalesce(g.is_sample, false) or coalesce(mm.is_sample, false)) as is_sample,
        current_timestamp as computed_at,
        d.downloads_days,
        d.downloads_snapshot_date,
        g.stars_as_of
    from months as m
    cross join tools as t
    inner join reddit_coverage as rc on rc.month = m.month
    left join downloads as d on d.month = m.month and d.tool_id = t.tool_id
    left join github as g on g.month = m.month and g.tool_id = t.tool_id
    left join mention_months as mm on mm.month = m.month and mm.tool_id = t.tool_id
)

select * from final
