-- question: Which file formats are rising and which are falling?
-- method: category file_format in the latest month of the popularity index: trend from the 3-month CAGR of the score
-- (rising above +1 %/month, falling below -1 %/month), with month-over-month and year-over-year growth beside it.
with latest as (
    select max(month) as month from v_popularity_index where category = 'file_format'
),

final as (
    select
        p.tool_name,
        case
            when p.cagr_3m > 0.01 then 'rising'
            when p.cagr_3m < -0.01 then 'falling'
            when p.cagr_3m is null then 'unknown'
            else 'flat'
        end as trend,
        round(p.cagr_3m * 100, 2) as cagr_3m_pct,
        round(p.growth_mom * 100, 2) as growth_mom_pct,
        round(p.growth_yoy * 100, 2) as growth_yoy_pct,
        round(p.score, 1) as score,
        p.as_of_date,
        p.is_sample
    from v_popularity_index as p
    inner join latest as l on l.month = p.month
    where p.category = 'file_format' and p.score > 0
)

select * from final
order by cagr_3m_pct desc nulls last, tool_name
