"""Reddit: the praw client (live, or replayed against a local server), raw landings, record parsing and archive dumps.

What madlake tracks on Reddit is configured here: :data:`DEFAULT_SUBREDDITS`, overridable with the
``MADLAKE_SUBREDDITS`` environment variable (comma-separated names, case as Reddit spells them).
"""

from __future__ import annotations

import os
import re
from typing import Final

#: The subreddits whose newest submissions (and their comment trees) are ingested daily.
DEFAULT_SUBREDDITS: Final = (
    "dataengineering",
    "MachineLearning",
    "datascience",
    "analytics",
    "LocalLLaMA",
    "learnprogramming",
)

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_]{1,20}$")


def tracked_subreddits(override: str | None = None) -> list[str]:
    """The tracked subreddits: ``override`` or ``$MADLAKE_SUBREDDITS`` (comma-separated), else the defaults.

    Raises:
        ValueError: naming an entry that is not a valid subreddit name (so a typo fails the run loudly).
    """
    raw = override if override is not None else os.environ.get("MADLAKE_SUBREDDITS", "")
    names = [n.strip().removeprefix("r/") for n in raw.split(",") if n.strip()]
    if not names:
        return list(DEFAULT_SUBREDDITS)
    bad = [n for n in names if not _NAME.match(n)]
    if bad:
        source = "MADLAKE_SUBREDDITS" if override is None else "subreddits"
        raise ValueError(f"{source} has invalid subreddit name(s): {bad!r}")
    return list(dict.fromkeys(names))
