-- stg_catalog__tools: one row per tracked tool (the current catalog).
with source as (
    select * from dim_tools
),

renamed as (
    select
        tool_id,
        name as tool_name,
        primary_category,
        open_source,
        cardinality(pypi_packages) > 0 as has_pypi,
        cardinality(github_repos) > 0 as has_github
    from source
)

select * from renamed
