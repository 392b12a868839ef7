-- stg_reddit__mentions: tool mentions per tool per UTC day, with mention-weighted sentiment sums.
-- Reads only [start_date - 27, end_date] (the 28-day windows of the run's days). Labels: very_negative, negative,
-- neutral, positive, very_positive; the shares count the two positive (negative) labels together.
with params as (
    select
        cast(date_add('day', -27, start_date) as date) as read_from,
        end_date as read_to
    from run_params
),

source as (
    select m.*
    from reddit_mentions as m
    cross join params as p
    where cast(m.created_at as date) between p.read_from and p.read_to
),

renamed as (
    select
        tool_id,
        cast(created_at as date) as mention_date,
        cast(coalesce(mention_count, 1) as bigint) as mention_count,
        cast(sentiment_score as double) as sentiment_score,
        lower(sentiment_label) as sentiment_label,
        coalesce(method = 'sample', false) as is_sample
    from source
),

final as (
    select
        tool_id,
        mention_date,
        sum(mention_count) as mentions,
        sum(case when sentiment_score is not null then mention_count else 0 end) as scored_mentions,
        sum(sentiment_score * mention_count) as sentiment_sum,
        sum(case when sentiment_label in ('positive', 'very_positive') then mention_count else 0 end) as positive_mentions,
        sum(case when sentiment_label in ('negative', 'very_negative') then mention_count else 0 end) as negative_mentions,
        bool_or(is_sample) as is_sample
    from renamed
    group by tool_id, mention_date
)

select * from final
