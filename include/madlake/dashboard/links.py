"""Links the dashboard renders: Reddit links built from ids on the real host, and external links that show their host.

A stored permalink is data from a third party (or from whoever wrote the row): it is never trusted as a destination
(issue 13, item 6). A Reddit link is built from the item's base36 ids and subreddit name, validated, on
``https://www.reddit.com``; a relative ``/r/<sub>/comments/<id>/...`` permalink is accepted only when it has that shape.
Anything else absolute (``https://evil.example/...``) is not a Reddit link: it is shown as an external link with its
host in the text; a scheme other than http(s) gives no link at all.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import quote, urlsplit

REDDIT_HOST = "https://www.reddit.com"
_ID = re.compile(r"^[a-z0-9]{1,13}$")
_SUBREDDIT = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_]{1,20}$")
_PERMALINK = re.compile(r"^/r/[A-Za-z0-9][A-Za-z0-9_]{1,20}/comments/[a-z0-9]{1,13}(/[A-Za-z0-9_%\-]*){0,3}/?$")


@dataclass(frozen=True)
class Link:
    url: str
    host: str
    #: true only for a link built on Reddit's own host (the page then says "thread on reddit.com")
    reddit: bool

    @property
    def label(self) -> str:
        return f"thread on {self.host}" if self.reddit else f"external link ({self.host})"


def _bare(fullname: str | None, prefix: str) -> str | None:
    if not fullname:
        return None
    value = fullname[len(prefix) :] if fullname.startswith(prefix) else fullname
    return value if _ID.match(value) else None


def reddit_link(
    content_id: str | None,
    content_type: str | None,
    subreddit: str | None,
    submission_id: str | None = None,
    permalink: str | None = None,
) -> Link | None:
    """The link of a Reddit submission or comment (see the module docstring); ``None`` when there is none to give."""
    sub = subreddit if subreddit and _SUBREDDIT.match(subreddit) else None
    if sub and content_type == "submission" and (sid := _bare(content_id, "t3_")):
        return Link(f"{REDDIT_HOST}/r/{sub}/comments/{sid}/", "reddit.com", True)
    if sub and content_type == "comment":
        cid, post = _bare(content_id, "t1_"), _bare(submission_id, "t3_")
        if cid and post:
            return Link(f"{REDDIT_HOST}/r/{sub}/comments/{post}/_/{cid}/", "reddit.com", True)
    if permalink and _PERMALINK.match(permalink):
        return Link(REDDIT_HOST + permalink, "reddit.com", True)
    return external_link(permalink)


def external_link(url: str | None) -> Link | None:
    """An http(s) link with its host (lowercased, no credentials or port), or ``None`` for anything else."""
    if not url or not url.lower().startswith(("http://", "https://")):
        return None
    try:
        parts = urlsplit(url)
        host = (parts.hostname or "").lower()
    except ValueError:
        return None
    if not host or any(c in host for c in " \\@"):
        return None
    safe = quote(url, safe=":/?#[]@!$&'()*+,;=%-._~")
    return Link(safe, host.removeprefix("www."), False)
