-- Every tracked tool with its packages and repositories.
select tool_id, name, primary_category, categories, pypi_packages, github_repos, npm_packages, homepage, open_source
from dim_tools
order by name, tool_id
