-- The months the popularity index v2 covers and whether any of its rows is generated sample data (the header of the
-- answers madlake demo prints).
select
    min(month) as first,
    max(month) as last,
    bool_or(is_sample) as sample
from popularity_index
where method_version = 'v2'
