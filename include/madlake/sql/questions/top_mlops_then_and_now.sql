-- question: What was the top MLOps framework three years ago, and what is it today?
-- category: mlops
-- method: rank 1 of category mlops (experiment tracking and model registry frameworks; cloud ML platforms and model
-- hubs are other categories) in the popularity index v2, in the newest month with PyPI downloads (the one signal
-- covering every month since 2018-02; view v_index_current) and 36 months before it. Each month's row uses only that
-- month's data.
with months as (
    select max(answer_month) as today from v_index_current where category = 'mlops'
),

periods as (
    select 'today' as period, today as month from months
    union all
    select 'three years ago' as period, cast(date_add('month', -36, today) as date) as month from months
),

final as (
    select
        pe.period,
        pe.month,
        c.tool_name,
        c.tool_id,
        round(c.score, 1) as score,
        c.n_signals,
        round(c.coverage, 2) as coverage,
        c.signals,
        case when c.n_signals = 1 then 'judged on one signal only' else 'signals: ' || c.signals end as basis,
        c.is_sample
    from periods as pe
    left join v_index_current as c
        on c.category = 'mlops' and c.month = pe.month and c.rank_in_category = 1
)

select * from final
order by month desc
