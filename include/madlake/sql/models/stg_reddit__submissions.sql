-- stg_reddit__submissions: when each ingested Reddit submission was written (the coverage of the mentions signal is counted
-- from it by int_reddit__texts_monthly).
select created_at from reddit_submissions
