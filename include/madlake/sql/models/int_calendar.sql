-- int_calendar: the days this run recomputes, [start_date, end_date].
with final as (
    select cast(t.day as date) as metric_date
    from run_params as p
    cross join unnest(sequence(p.start_date, p.end_date, interval '1' day)) as t (day)
)

select * from final
