-- Example Reddit mentions of one tool with their summaries, from the 90 days before the tool's newest mention: the
-- most positive (score > 0.05), the most negative (score < -0.05) and the newest, up to 6 candidates each (the page
-- shows 3 of each and never the same item twice). The page builds each link from the ids (never from a stored URL).
-- params: tool_id
with p as (select ? as tool_id),
m as (
    select x.* from reddit_mentions x join p on x.tool_id = p.tool_id
),
recent as (
    select * from m where m.created_at >= (select max(created_at) from m) - interval '90' day
),
picked as (
    select *, 'most positive' as pick, 1 as pick_order,
           row_number() over (order by sentiment_score desc, created_at desc, content_id) as k
    from recent where sentiment_score > 0.05
    union all
    select *, 'most negative' as pick, 2 as pick_order,
           row_number() over (order by sentiment_score asc, created_at desc, content_id) as k
    from recent where sentiment_score < -0.05
    union all
    select *, 'newest' as pick, 3 as pick_order, row_number() over (order by created_at desc, content_id) as k from recent
)
select x.pick, x.content_id, x.content_type, x.subreddit, x.created_at, x.sentiment_score, x.sentiment_label,
       x.summary, c.submission_id, coalesce(s.permalink, c.permalink) as permalink
from picked x
left join reddit_submissions s on x.content_type = 'submission' and s.fullname = x.content_id
left join reddit_comments c on x.content_type = 'comment' and c.fullname = x.content_id
where x.k <= 6
order by x.pick_order, x.k
