-- stg_github__repo_snapshots: daily repository snapshots of the last 90 days before each run day.
-- 90 days because releases_90d looks that far back; stars/forks/issues use the latest snapshot within that range.
with params as (
    select
        cast(date_add('day', -89, start_date) as date) as read_from,
        end_date as read_to
    from run_params
),

source as (
    select s.*
    from github_repo_snapshots as s
    cross join params as p
    where s.snapshot_date between p.read_from and p.read_to
),

renamed as (
    select
        tool_id,
        lower(repo) as repo,
        snapshot_date,
        cast(stars as bigint) as stars,
        cast(forks as bigint) as forks,
        cast(open_issues as bigint) as open_issues,
        cast(contributors as bigint) as contributors,
        latest_release_tag as release_tag,
        cast(latest_release_at as date) as release_date,
        coalesce(origin = 'sample', false) as is_sample
    from source
    where tool_id is not null
)

select * from renamed
