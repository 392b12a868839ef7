"""Reddit records as pydantic models, valid for both the API's JSON and the Pushshift / Arctic Shift archive dumps.

The fields the tables need are declared (the identifying ones required); everything else a record carries is kept
verbatim in the row's ``raw_json`` (the JSON the source returned, never a praw object). Both sources spell the same
things slightly differently, which the validators absorb:

* ``created_utc``: float seconds (API), int or numeric string (archives);
* ``edited``: ``false`` or the edit's epoch seconds (both);
* ``name`` (fullname): API only; derived from the id for archives;
* comment ``depth``: API only (archives have none, or ``nest_level`` in some years);
* deletion: ``[deleted]`` / ``[removed]`` placeholders, ``removed_by_category``, moderator-view ``removed``/``spam``.

:func:`submission_row` / :func:`comment_row` turn a validated record into a table row and apply the deletion policy:
a deleted or removed item keeps its row and stats but loses its author, text and raw payload.

A record that fails validation raises :class:`pydantic.ValidationError`; callers turn that into a dead letter with
:func:`rejection_reason`.
"""

from __future__ import annotations

import html
import json
import math
import re
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

Source = Literal["api", "pushshift", "arctic_shift"]

#: Reddit opened in June 2005; anything earlier is a broken timestamp.
_EARLIEST = datetime(2005, 6, 1, tzinfo=UTC)
_BASE36 = re.compile(r"^[0-9a-z]{1,16}$")
DELETED = "[deleted]"
REMOVED = "[removed]"


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else f"{text[:40]}... ({len(text):,} chars)"


def epoch_to_datetime(value: Any) -> datetime:
    """Epoch seconds (number or numeric string) or an ISO timestamp → an aware datetime within Reddit's lifetime.

    Raises only ``ValueError`` (naming the value), whatever the input: out-of-range numbers (``-1e18``, ``1e300``,
    ``inf``, ``nan``) are refused before the conversion that would raise ``OSError``/``OverflowError``.
    """
    latest = datetime.now(UTC) + timedelta(days=1)
    if isinstance(value, datetime):
        ts = value if value.tzinfo else value.replace(tzinfo=UTC)
    elif isinstance(value, bool):  # bool is an int: reject explicitly
        raise ValueError("a timestamp, not a boolean")
    elif isinstance(value, int | float | str) and not (isinstance(value, str) and not value.strip()):
        if isinstance(value, str) and len(value) > 64:
            raise ValueError(f"not an epoch timestamp: {_shown(value)}")
        try:
            seconds = float(value)
        except ValueError:
            seconds = None
        if seconds is None:
            try:
                ts = datetime.fromisoformat(str(value))
            except ValueError:
                raise ValueError(f"not an epoch timestamp: {_shown(value)}") from None
            ts = ts if ts.tzinfo else ts.replace(tzinfo=UTC)
        elif not math.isfinite(seconds) or not _EARLIEST.timestamp() <= seconds <= latest.timestamp():
            raise ValueError(f"timestamp {_shown(value)} is outside Reddit's lifetime (2005-06 to now)")
        else:
            ts = datetime.fromtimestamp(seconds, tz=UTC)
    else:
        raise ValueError(f"not an epoch timestamp: {_shown(value)}")
    if ts < _EARLIEST or ts > latest:
        raise ValueError(f"timestamp {ts.isoformat()} is outside Reddit's lifetime")
    return ts


_epoch = epoch_to_datetime


def _edited(value: Any) -> datetime | None:
    """``edited`` is ``false``/``true`` or the edit's epoch seconds; returns the edit time when known."""
    if value is None or isinstance(value, bool):
        return None
    try:
        return _epoch(value)
    except ValueError:
        return None


def _opt_str(value: Any) -> str | None:
    if value is None or value == "":
        return None
    if isinstance(value, dict | list | tuple | bool):
        raise ValueError(f"text expected, got {type(value).__name__}")
    return value if isinstance(value, str) else str(value)


_SURROGATE = re.compile("[\ud800-\udfff]")

#: Reddit's own limits (characters of the markdown source): a longer value is not a genuine Reddit record.
MAX_TITLE_CHARS = 300
MAX_BODY_CHARS = 40_000
#: Other text fields (author, flair, domain, URL, permalink): far above anything Reddit produces.
MAX_SHORT_CHARS = 10_000
INT64 = (-(2**63), 2**63 - 1)


def _capped(limit: int, what: str) -> Any:
    """A validator refusing text over ``limit`` characters (measured after HTML unescaping: the API may send
    ``&amp;`` for ``&``, so a genuine body at the limit can be a little longer on the wire)."""

    def check(value: Any) -> Any:
        if isinstance(value, str) and len(value) > limit and len(html.unescape(value)) > limit:
            raise ValueError(f"{len(value):,} characters, over {what} limit of {limit:,}")
        return value

    return AfterValidator(check)


Timestamp = Annotated[datetime, BeforeValidator(_epoch)]
OptStr = Annotated[str | None, BeforeValidator(_opt_str), _capped(MAX_SHORT_CHARS, "the field")]
Int64 = Annotated[int, Field(ge=INT64[0], le=INT64[1])]
Title = Annotated[str, _capped(MAX_TITLE_CHARS, "Reddit's title")]
Body = Annotated[str, _capped(MAX_BODY_CHARS, "Reddit's body")]


#: A whole record (every field, the unknown ones kept in ``raw_json`` included): genuine ones are below ~200 kB.
MAX_RECORD_CHARS = 2_000_000
MAX_RECORD_DEPTH = 64


def _record_size(value: Any, depth: int = 0) -> int:
    """Characters of text and number of items in a JSON value; raises past the size or depth bound (early exit)."""
    if depth > MAX_RECORD_DEPTH:
        raise ValueError(f"the record nests deeper than {MAX_RECORD_DEPTH} levels")
    if isinstance(value, str):
        return len(value)
    if isinstance(value, dict):
        items: Any = value.items()
    elif isinstance(value, list):
        items = enumerate(value)
    else:
        return 1
    total = 0
    for key, item in items:
        total += len(key) + 1 if isinstance(key, str) else 1
        total += _record_size(item, depth + 1)
        if total > MAX_RECORD_CHARS:
            raise ValueError(f"the record is over {MAX_RECORD_CHARS:,} characters (not a genuine Reddit record)")
    return total


class _Thing(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore", str_strip_whitespace=False)

    @model_validator(mode="before")
    @classmethod
    def _bounded(cls, data: Any) -> Any:
        # Bounded memory per record: a huge or absurdly nested record is refused before anything copies it.
        _record_size(data)
        return data

    id: str
    subreddit: str = Field(min_length=1, max_length=64)
    created_utc: Timestamp
    author: OptStr = None
    score: Int64 | None = None
    gilded: Int64 | None = None
    stickied: bool | None = None
    edited: Any = None
    permalink: OptStr = None
    removed_by_category: OptStr = None
    removed: bool | None = None
    spam: bool | None = None

    @field_validator("*", mode="after")
    @classmethod
    def _no_lone_surrogates(cls, v: Any) -> Any:
        # JSON can carry a lone UTF-16 surrogate ("\udcf0", a split emoji) that no UTF-8 table can store: keep the
        # record and mark the damage with U+FFFD (a valid pair arrives as one code point and is untouched).
        if isinstance(v, str) and _SURROGATE.search(v):
            return _SURROGATE.sub("\ufffd", v)
        return v

    @field_validator("id", mode="before")
    @classmethod
    def _base36(cls, v: Any) -> str:
        if not isinstance(v, str) or not _BASE36.match(v):
            raise ValueError(f"not a base36 Reddit id: {v!r}")
        return v

    @property
    def edited_at(self) -> datetime | None:
        return _edited(self.edited)

    @property
    def was_edited(self) -> bool:
        return self.edited not in (None, False, 0)


class Submission(_Thing):
    """A ``t3`` record (a post)."""

    title: Title
    selftext: Body | None = None
    upvote_ratio: float | None = Field(default=None, ge=0, le=1)
    num_comments: int | None = Field(default=None, ge=0, le=INT64[1])
    url: OptStr = None
    domain: OptStr = None
    link_flair_text: OptStr = None
    is_self: bool | None = None
    over_18: bool | None = None
    locked: bool | None = None

    @property
    def is_deleted(self) -> bool:
        return self.selftext == DELETED or self.removed_by_category in ("deleted", "author")

    @property
    def is_removed(self) -> bool:
        return (
            self.selftext == REMOVED
            or bool(self.removed)
            or bool(self.spam)
            or self.removed_by_category not in (None, "deleted", "author")
        )


class Comment(_Thing):
    """A ``t1`` record (a comment)."""

    body: Body
    link_id: str = Field(pattern=r"^t3_[0-9a-z]{1,16}$")
    parent_id: str | None = Field(default=None, pattern=r"^t[13]_[0-9a-z]{1,16}$")
    depth: int | None = Field(default=None, ge=0, le=10_000)
    nest_level: int | None = Field(default=None, ge=1, le=10_000)
    controversiality: Int64 | None = None
    is_submitter: bool | None = None
    author_flair_text: OptStr = None

    @field_validator("parent_id", "link_id", mode="before")
    @classmethod
    def _fullname(cls, v: Any) -> Any:
        # Very old archive records carry bare ints for parents of top-level comments; those are broken, keep None.
        return None if v in (None, "") else v

    @property
    def is_deleted(self) -> bool:
        return self.body == DELETED

    @property
    def is_removed(self) -> bool:
        return self.body == REMOVED or bool(self.removed) or bool(self.spam) or self.removed_by_category is not None


def _raw(record: dict[str, Any]) -> str:
    text = json.dumps(record, ensure_ascii=False, separators=(",", ":"), sort_keys=True)
    # Lone surrogates stay as their JSON escape (valid JSON, storable UTF-8, the record as received).
    return text.encode("utf-8", errors="backslashreplace").decode("utf-8") if _SURROGATE.search(text) else text


def _author(author: str | None) -> str | None:
    return None if author in (None, DELETED, REMOVED) else author


def submission_row(record: dict[str, Any], *, source: Source, observed_at: datetime) -> dict[str, Any]:
    """Validate a ``t3`` record (the ``data`` object) and return its ``reddit_submissions`` row.

    Raises:
        pydantic.ValidationError: the record lacks a required field or has a malformed one.
    """
    s = Submission.model_validate(record)
    gone = s.is_deleted or s.is_removed
    return {
        "id": s.id,
        "fullname": f"t3_{s.id}",
        "subreddit": s.subreddit,
        "author": None if gone else _author(s.author),
        "title": None if gone else s.title,
        "selftext": None if gone else (s.selftext or None),
        "url": s.url,
        "domain": s.domain,
        "permalink": s.permalink,
        "flair": s.link_flair_text,
        "score": s.score,
        "upvote_ratio": s.upvote_ratio,
        "num_comments": s.num_comments,
        "gilded": s.gilded,
        "is_self": s.is_self,
        "over_18": s.over_18,
        "stickied": s.stickied,
        "locked": s.locked,
        "edited": s.was_edited,
        "is_deleted": s.is_deleted,
        "is_removed": s.is_removed,
        "removed_by_category": s.removed_by_category,
        "created_at": s.created_utc,
        "edited_at": s.edited_at,
        "first_seen_at": observed_at,
        "last_seen_at": observed_at,
        "loaded_at": observed_at,
        "source": source,
        "raw_json": None if gone else _raw(record),
    }


def comment_row(record: dict[str, Any], *, source: Source, observed_at: datetime) -> dict[str, Any]:
    """Validate a ``t1`` record and return its ``reddit_comments`` row (see :func:`submission_row`)."""
    c = Comment.model_validate(record)
    gone = c.is_deleted or c.is_removed
    depth = c.depth if c.depth is not None else (c.nest_level - 1 if c.nest_level is not None else None)
    if depth is None and c.parent_id is not None and c.parent_id.startswith("t3_"):
        depth = 0
    return {
        "id": c.id,
        "fullname": f"t1_{c.id}",
        "link_id": c.link_id,
        "submission_id": c.link_id[3:],
        "parent_id": c.parent_id,
        "subreddit": c.subreddit,
        "author": None if gone else _author(c.author),
        "body": None if gone else c.body,
        "permalink": c.permalink,
        "flair": None if gone else c.author_flair_text,
        "score": c.score,
        "depth": depth,
        "gilded": c.gilded,
        "controversiality": c.controversiality,
        "is_submitter": c.is_submitter,
        "stickied": c.stickied,
        "edited": c.was_edited,
        "is_deleted": c.is_deleted,
        "is_removed": c.is_removed,
        "created_at": c.created_utc,
        "edited_at": c.edited_at,
        "first_seen_at": observed_at,
        "last_seen_at": observed_at,
        "loaded_at": observed_at,
        "source": source,
        "raw_json": None if gone else _raw(record),
    }


SUBREDDIT_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_]{1,20}\Z")


def subreddit_name(value: object) -> str:
    """A subreddit name as given by a person (``r/`` prefix and spaces tolerated), checked against Reddit's rule
    (2-21 letters, digits or underscores, not starting with an underscore): it becomes part of file paths and URLs.

    Raises:
        ValueError: naming the value.
    """
    name = str(value).strip().removeprefix("r/").removeprefix("/r/")
    if not SUBREDDIT_RE.match(name):
        raise ValueError(
            f"invalid subreddit {str(value)[:80]!r}: expected 2-21 letters, digits or underscores "
            "(e.g. dataengineering)"
        )
    return name


def rejection_reason(exc: ValidationError) -> str:
    """A short, stable reason naming the failing fields, e.g. ``created_utc: Value error, not an epoch ...``."""
    parts = []
    for err in exc.errors()[:5]:
        loc = ".".join(str(p) for p in err["loc"]) or "record"
        parts.append(f"{loc}: {err['msg']}")
    return "invalid record: " + "; ".join(parts)
