-- v_index_growth_yoy: each category's year-over-year growth per tool (v_index_current: newest method version), in
-- the category's newest month whose growth includes PyPI downloads for some tool (else its newest month with a growth).
-- growth_yoy is relative to the category (10^(d/25) - 1, d = weighted change of the signals' indexes present in both
-- months, compared_on); spans_break = a PyPI counting-method change lies between the two months;
-- downloads_share_yoy_pct = change of the tool's share of the category's downloads, each share within its own snapshot.
with candidates as (
    select * from v_index_current where growth_yoy is not null
),

as_of as (
    select
        category,
        coalesce(max(case when growth_yoy_signals like '%downloads%' then month end), max(month)) as month
    from candidates
    group by category
),

final as (
    select
        c.category,
        c.tool_name,
        c.tool_id,
        c.growth_yoy,
        round(c.growth_yoy * 100, 1) as growth_yoy_pct,
        c.growth_yoy_signals as compared_on,
        c.growth_yoy_spans_break as spans_break,
        round(c.downloads_share_yoy * 100, 1) as downloads_share_yoy_pct,
        round(c.score, 1) as score,
        c.n_signals,
        round(c.coverage, 2) as coverage,
        c.month,
        cast(date_add('month', -12, c.month) as date) as compared_with,
        c.is_sample
    from candidates as c
    inner join as_of as a on a.category = c.category and a.month = c.month
)

select * from final
