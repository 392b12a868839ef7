-- stg_catalog__tool_packages: one row per (tool, PyPI project); a project belongs to one tool only.
with source as (
    select tool_id, pypi_packages from dim_tools
),

final as (
    select
        s.tool_id,
        lower(p.project) as project
    from source as s
    cross join unnest(s.pypi_packages) as p (project)
)

select * from final
