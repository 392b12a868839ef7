-- int_months: the months this run recomputes (first days), from the month of start_date to the month of end_date;
-- month_end is the month's last day, or end_date for a month still in progress.
with final as (
    select
        cast(t.month as date) as month,
        least(last_day_of_month(cast(t.month as date)), p.end_date) as month_end
    from run_params as p
    cross join unnest(
        sequence(
            cast(date_trunc('month', p.start_date) as date),
            cast(date_trunc('month', p.end_date) as date),
            interval '1' month
        )
    ) as t (month)
)

select * from final
