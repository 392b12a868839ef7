"""Reddit tables: one row per submission and one per comment, whatever the source (API or Pushshift/Arctic Shift).

Both are merged on ``id`` (see :mod:`madlake.pipelines.reddit`): a record seen again updates its stats and
``last_seen_at``; a record that comes back deleted or removed keeps its row and stats but loses its text. Downstream
readers that process "what changed since my last run" filter on ``loaded_at`` (set when a row is inserted or its
content changes, never by a no-op reload).
"""

from __future__ import annotations

from pyiceberg.schema import Schema
from pyiceberg.types import (
    BooleanType,
    DoubleType,
    IntegerType,
    LongType,
    NestedField,
    StringType,
    TimestamptzType,
)

from madlake.names import Table
from madlake.tables.spec import TableSpec

REDDIT_SUBMISSIONS = TableSpec(
    name=Table.REDDIT_SUBMISSIONS,
    schema=Schema(
        # ids
        NestedField(1, "id", StringType(), required=True, doc="base36 id, e.g. 1mkowrw"),
        NestedField(2, "fullname", StringType(), required=True, doc="t3_<id>"),
        NestedField(3, "subreddit", StringType(), required=True, doc="subreddit name as Reddit spells it"),
        NestedField(4, "author", StringType(), required=False, doc="null when deleted or removed"),
        # text (cleared when the post is deleted or removed)
        NestedField(5, "title", StringType(), required=False),
        NestedField(6, "selftext", StringType(), required=False, doc="markdown body of a self post"),
        NestedField(7, "url", StringType(), required=False, doc="link target (the post itself for self posts)"),
        NestedField(8, "domain", StringType(), required=False),
        NestedField(9, "permalink", StringType(), required=False, doc="path on reddit.com"),
        NestedField(10, "flair", StringType(), required=False, doc="link flair text"),
        # stats (latest observation wins)
        NestedField(11, "score", LongType(), required=False),
        NestedField(12, "upvote_ratio", DoubleType(), required=False),
        NestedField(13, "num_comments", LongType(), required=False),
        NestedField(14, "gilded", IntegerType(), required=False),
        # flags
        NestedField(15, "is_self", BooleanType(), required=False),
        NestedField(16, "over_18", BooleanType(), required=False),
        NestedField(17, "stickied", BooleanType(), required=False),
        NestedField(18, "locked", BooleanType(), required=False),
        NestedField(19, "edited", BooleanType(), required=False),
        NestedField(20, "is_deleted", BooleanType(), required=True, doc="deleted by its author (sticky)"),
        NestedField(21, "is_removed", BooleanType(), required=True, doc="removed by moderators/Reddit (sticky)"),
        NestedField(22, "removed_by_category", StringType(), required=False),
        # timestamps
        NestedField(23, "created_at", TimestamptzType(), required=True),
        NestedField(24, "edited_at", TimestamptzType(), required=False),
        NestedField(25, "first_seen_at", TimestamptzType(), required=True, doc="fetch time of the first observation"),
        NestedField(26, "last_seen_at", TimestamptzType(), required=True, doc="fetch time of the newest observation"),
        NestedField(27, "loaded_at", TimestamptzType(), required=True, doc="when the row was inserted or last changed"),
        # lineage
        NestedField(28, "source", StringType(), required=True, doc="api | pushshift | arctic_shift"),
        NestedField(29, "raw_json", StringType(), required=False, doc="the record as returned (null once deleted)"),
    ),
    partition=(("created_at", "month"),),
    sort=("subreddit", "created_at"),
    key=("id",),
    doc="Reddit submissions of the tracked subreddits, one row per post, merged on id (stats refresh on every "
    "sighting; deletions clear the text but keep the row).",
)

REDDIT_COMMENTS = TableSpec(
    name=Table.REDDIT_COMMENTS,
    schema=Schema(
        # ids
        NestedField(1, "id", StringType(), required=True, doc="base36 id"),
        NestedField(2, "fullname", StringType(), required=True, doc="t1_<id>"),
        NestedField(3, "link_id", StringType(), required=True, doc="t3_<submission id>"),
        NestedField(4, "submission_id", StringType(), required=True, doc="the submission's base36 id"),
        NestedField(5, "parent_id", StringType(), required=False, doc="t1_ (a reply) or t3_ (top level)"),
        NestedField(6, "subreddit", StringType(), required=True),
        NestedField(7, "author", StringType(), required=False, doc="null when deleted or removed"),
        # text (cleared when deleted or removed)
        NestedField(8, "body", StringType(), required=False, doc="markdown"),
        NestedField(9, "permalink", StringType(), required=False),
        NestedField(10, "flair", StringType(), required=False, doc="author flair text"),
        # stats
        NestedField(11, "score", LongType(), required=False),
        NestedField(12, "depth", IntegerType(), required=False, doc="0 = top level (null when unknown: archives)"),
        NestedField(13, "gilded", IntegerType(), required=False),
        NestedField(14, "controversiality", IntegerType(), required=False),
        # flags
        NestedField(15, "is_submitter", BooleanType(), required=False),
        NestedField(16, "stickied", BooleanType(), required=False),
        NestedField(17, "edited", BooleanType(), required=False),
        NestedField(18, "is_deleted", BooleanType(), required=True),
        NestedField(19, "is_removed", BooleanType(), required=True),
        # timestamps
        NestedField(20, "created_at", TimestamptzType(), required=True),
        NestedField(21, "edited_at", TimestamptzType(), required=False),
        NestedField(22, "first_seen_at", TimestamptzType(), required=True),
        NestedField(23, "last_seen_at", TimestamptzType(), required=True),
        NestedField(24, "loaded_at", TimestamptzType(), required=True, doc="when the row was inserted or last changed"),
        # lineage
        NestedField(25, "source", StringType(), required=True, doc="api | pushshift | arctic_shift"),
        NestedField(26, "raw_json", StringType(), required=False, doc="the record as returned (null once deleted)"),
    ),
    partition=(("created_at", "month"),),
    sort=("link_id", "created_at"),
    key=("id",),
    doc="Reddit comments on the tracked subreddits' submissions, one row per comment, merged on id.",
)

TABLES = [REDDIT_SUBMISSIONS, REDDIT_COMMENTS]
