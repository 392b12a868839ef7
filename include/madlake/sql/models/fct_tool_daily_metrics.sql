-- fct_tool_daily_metrics -> tool_daily_metrics: one row per tool per day of the run.
-- Every value is as of metric_date: windows are trailing ([d-6, d], [d-27, d], [d-89, d]) and no input dated after d
-- is joined. A signal is null when the tool has no package/repo for it or its source has no data at all for the day
-- (or window), and 0 when the source has data but nothing for the tool.
with calendar as (
    select metric_date from int_calendar
),

tools as (
    select tool_id, primary_category, has_pypi, has_github from stg_catalog__tools
),

-- PyPI: sum the tool's packages, then trailing windows.
tool_downloads as (
    select
        k.tool_id,
        d.download_date,
        sum(d.downloads) as downloads,
        sum(d.downloads_excl_ci) as downloads_excl_ci,
        bool_or(d.is_sample) as is_sample
    from stg_pypi__downloads as d
    inner join stg_catalog__tool_packages as k on k.project = d.project
    group by k.tool_id, d.download_date
),

pypi_days as (
    select download_date, bool_or(is_sample) as is_sample
    from stg_pypi__downloads
    group by download_date
),

pypi_coverage as (
    select
        c.metric_date,
        max(case when p.download_date = c.metric_date then 1 else 0 end) = 1 as has_day,
        max(case when p.download_date > cast(date_add('day', -7, c.metric_date) as date) then 1 else 0 end) = 1
            as has_7d,
        count(p.download_date) > 0 as has_28d,
        coalesce(bool_or(p.is_sample), false) as is_sample
    from calendar as c
    left join pypi_days as p
        on p.download_date between cast(date_add('day', -27, c.metric_date) as date) and c.metric_date
    group by c.metric_date
),

downloads_windows as (
    select
        c.metric_date,
        d.tool_id,
        sum(case when d.download_date = c.metric_date then d.downloads else 0 end) as downloads,
        sum(case when d.download_date = c.metric_date then d.downloads_excl_ci else 0 end) as downloads_excl_ci,
        sum(
            case when d.download_date > cast(date_add('day', -7, c.metric_date) as date) then d.downloads_excl_ci else 0 end
        ) as downloads_7d,
        sum(d.downloads_excl_ci) as downloads_28d
    from calendar as c
    inner join tool_downloads as d
        on d.download_date between cast(date_add('day', -27, c.metric_date) as date) and c.metric_date
    group by c.metric_date, d.tool_id
),

-- Reddit mentions.
mention_days as (
    select distinct mention_date from stg_reddit__mentions
),

mention_coverage as (
    select
        c.metric_date,
        max(case when m.mention_date = c.metric_date then 1 else 0 end) = 1 as has_day,
        count(m.mention_date) > 0 as has_28d
    from calendar as c
    left join mention_days as m
        on m.mention_date between cast(date_add('day', -27, c.metric_date) as date) and c.metric_date
    group by c.metric_date
),

mention_windows as (
    select
        c.metric_date,
        m.tool_id,
        sum(case when m.mention_date = c.metric_date then m.mentions else 0 end) as mentions,
        sum(m.mentions) as mentions_28d,
        sum(m.scored_mentions) as scored_mentions_28d,
        sum(m.sentiment_sum) as sentiment_sum_28d,
        sum(m.positive_mentions) as positive_28d,
        sum(m.negative_mentions) as negative_28d,
        bool_or(m.is_sample) as is_sample
    from calendar as c
    inner join stg_reddit__mentions as m
        on m.mention_date between cast(date_add('day', -27, c.metric_date) as date) and c.metric_date
    group by c.metric_date, m.tool_id
),

-- GitHub: the latest snapshot of each repo within [d-89, d], summed per tool.
repo_latest as (
    select
        c.metric_date,
        s.tool_id,
        s.repo,
        max_by(s.stars, s.snapshot_date) as stars,
        max_by(s.forks, s.snapshot_date) as forks,
        max_by(s.open_issues, s.snapshot_date) as open_issues,
        bool_or(s.is_sample) as is_sample
    from calendar as c
    inner join stg_github__repo_snapshots as s
        on s.snapshot_date between cast(date_add('day', -89, c.metric_date) as date) and c.metric_date
    group by c.metric_date, s.tool_id, s.repo
),

repo_releases as (
    select
        c.metric_date,
        s.tool_id,
        count(distinct s.repo || '@' || s.release_tag) as releases_90d
    from calendar as c
    inner join stg_github__repo_snapshots as s
        on s.snapshot_date between cast(date_add('day', -89, c.metric_date) as date) and c.metric_date
    where s.release_date between cast(date_add('day', -89, c.metric_date) as date) and c.metric_date
    group by c.metric_date, s.tool_id
),

github_windows as (
    select
        metric_date,
        tool_id,
        sum(stars) as stars,
        sum(forks) as forks,
        sum(open_issues) as open_issues,
        bool_or(is_sample) as is_sample
    from repo_latest
    group by metric_date, tool_id
),

star_windows as (
    select
        c.metric_date,
        s.tool_id,
        sum(case when s.star_date = c.metric_date then s.new_stars else 0 end) as new_stars,
        sum(s.new_stars) as new_stars_28d,
        bool_or(s.is_sample) as is_sample
    from calendar as c
    inner join stg_github__stars_daily as s
        on s.star_date between cast(date_add('day', -27, c.metric_date) as date) and c.metric_date
    group by c.metric_date, s.tool_id
),

star_coverage as (
    select
        c.metric_date,
        max(case when s.star_date = c.metric_date then 1 else 0 end) = 1 as has_day,
        count(s.star_date) > 0 as has_28d
    from calendar as c
    left join (select distinct star_date from stg_github__stars_daily) as s
        on s.star_date between cast(date_add('day', -27, c.metric_date) as date) and c.metric_date
    group by c.metric_date
),

final as (
    select
        c.metric_date,
        t.tool_id,
        case when t.has_pypi and pc.has_day then coalesce(dw.downloads, 0) end as downloads,
        case when t.has_pypi and pc.has_day then coalesce(dw.downloads_excl_ci, 0) end as downloads_excl_ci,
        case when t.has_pypi and pc.has_7d then coalesce(dw.downloads_7d, 0) end as downloads_7d,
        case when t.has_pypi and pc.has_28d then coalesce(dw.downloads_28d, 0) end as downloads_28d,
        case when mc.has_day then coalesce(mw.mentions, 0) end as mentions,
        case when mc.has_28d then coalesce(mw.mentions_28d, 0) end as mentions_28d,
        mw.sentiment_sum_28d / nullif(cast(mw.scored_mentions_28d as double), 0) as sentiment_28d,
        cast(mw.positive_28d as double) / nullif(cast(mw.mentions_28d as double), 0) as positive_share_28d,
        cast(mw.negative_28d as double) / nullif(cast(mw.mentions_28d as double), 0) as negative_share_28d,
        gw.stars,
        case when t.has_github and sc.has_28d then coalesce(sw.new_stars_28d, 0) end as new_stars_28d,
        gw.forks,
        gw.open_issues,
        cast(case when gw.tool_id is not null then coalesce(rr.releases_90d, 0) end as integer) as releases_90d,
        (
            pc.is_sample or coalesce(mw.is_sample, false) or coalesce(gw.is_sample, false)
            or coalesce(sw.is_sample, false)
        ) as is_sample,
        current_timestamp as computed_at,
        t.primary_category,
        case when t.has_github and sc.has_day then coalesce(sw.new_stars, 0) end as new_stars
    from calendar as c
    cross join tools as t
    inner join pypi_coverage as pc on pc.metric_date = c.metric_date
    inner join mention_coverage as mc on mc.metric_date = c.metric_date
    inner join star_coverage as sc on sc.metric_date = c.metric_date
    left join downloads_windows as dw on dw.metric_date = c.metric_date and dw.tool_id = t.tool_id
    left join mention_windows as mw on mw.metric_date = c.metric_date and mw.tool_id = t.tool_id
    left join github_windows as gw on gw.metric_date = c.metric_date and gw.tool_id = t.tool_id
    left join repo_releases as rr on rr.metric_date = c.metric_date and rr.tool_id = t.tool_id
    left join star_windows as sw on sw.metric_date = c.metric_date and sw.tool_id = t.tool_id
)

select * from final
