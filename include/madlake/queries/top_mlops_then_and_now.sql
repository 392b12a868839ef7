-- question: What was the top MLOps framework three years ago, and what is it today?
-- method: rank 1 of category mlops in the popularity index in the latest month and in the same month three years
-- earlier (none when no tool has a signal that month). Each month's row was computed as of that month (nothing later
-- leaks in); to reproduce an old published answer exactly, run with --as-of monthly-YYYY-MM.
with months as (
    select
        max(month) as today,
        cast(date_add('year', -3, max(month)) as date) as three_years_ago
    from v_popularity_index
    where category = 'mlops'
),

periods as (
    select 'today' as period, today as month from months
    union all
    select 'three years ago' as period, three_years_ago as month from months
),

final as (
    select
        pe.period,
        pe.month,
        p.tool_name,
        round(p.score, 1) as score,
        p.as_of_date,
        p.is_sample
    from periods as pe
    left join v_popularity_index as p
        on p.month = pe.month and p.category = 'mlops' and p.rank_in_category = 1 and p.score > 0
)

select * from final
order by month desc
