"""Landed Reddit responses → table rows and dead letters.

Three response shapes carry records: a ``/new`` Listing of ``t3``; a comments answer ``[Listing(t3), Listing(t1
tree)]`` (replies nest under ``data.replies``); a ``/api/morechildren`` answer ``{"json": {"data": {"things": [...]}}}``
(flat). Every record is validated on its own: a bad one becomes a :class:`Rejection` with the reason and its raw
JSON, and the others still load. A response whose envelope is not one of these shapes is rejected whole.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from pydantic import ValidationError

from madlake.lakehouse.deadletter import Rejection
from madlake.models.reddit import Source, comment_row, rejection_reason, submission_row


@dataclass
class Parsed:
    """Rows and rejections from one or more responses."""

    submissions: list[dict[str, Any]] = field(default_factory=list)
    comments: list[dict[str, Any]] = field(default_factory=list)
    rejected_submissions: list[Rejection] = field(default_factory=list)
    rejected_comments: list[Rejection] = field(default_factory=list)

    def extend(self, other: Parsed) -> None:
        self.submissions += other.submissions
        self.comments += other.comments
        self.rejected_submissions += other.rejected_submissions
        self.rejected_comments += other.rejected_comments


def _record_id(node: Any) -> str | None:
    data = node.get("data") if isinstance(node, dict) else None
    rid = data.get("id") if isinstance(data, dict) else None
    return str(rid) if rid is not None else None


def add_thing(out: Parsed, node: Any, *, source: Source, observed_at: datetime, where: str) -> None:
    """Validate one ``{"kind", "data"}`` node into ``out`` (``more`` stubs are not records and are ignored)."""
    kind = node.get("kind") if isinstance(node, dict) else None
    data = node.get("data") if isinstance(node, dict) else None
    if kind == "more":
        return
    if kind not in ("t1", "t3") or not isinstance(data, dict):
        target = out.rejected_comments if where == "comments" else out.rejected_submissions
        target.append(Rejection(f"not a Reddit thing (kind={kind!r}) in {where}", node, _record_id(node)))
        return
    try:
        if kind == "t3":
            out.submissions.append(submission_row(data, source=source, observed_at=observed_at))
        else:
            out.comments.append(comment_row(data, source=source, observed_at=observed_at))
    except ValidationError as exc:
        target = out.rejected_submissions if kind == "t3" else out.rejected_comments
        target.append(Rejection(rejection_reason(exc), data, _record_id(node)))


def _tree(nodes: Iterable[Any]) -> Iterator[Any]:
    """Depth-first over a comment tree, replies included; the ``replies`` key is dropped from each record's raw JSON."""
    stack = list(nodes)[::-1]
    while stack:
        node = stack.pop()
        if isinstance(node, dict) and node.get("kind") == "t1" and isinstance(node.get("data"), dict):
            data = node["data"]
            replies = data.get("replies")
            if isinstance(replies, dict):
                stack.extend(((replies.get("data") or {}).get("children") or [])[::-1])
            node = {"kind": "t1", "data": {k: v for k, v in data.items() if k != "replies"}}
        yield node


def parse_response(endpoint: str, body: Any, *, observed_at: datetime, source: Source = "api") -> Parsed:
    """Rows of one landed response body. An unrecognised envelope is one rejection naming the endpoint."""
    out = Parsed()
    if endpoint == "listing":
        children = (body.get("data") or {}).get("children") if isinstance(body, dict) else None
        if not isinstance(children, list):
            out.rejected_submissions.append(Rejection("listing response is not a Listing envelope", body))
            return out
        for node in children:
            add_thing(out, node, source=source, observed_at=observed_at, where="listing")
    elif endpoint == "comments":
        if not (isinstance(body, list) and len(body) == 2 and all(isinstance(b, dict) for b in body)):
            out.rejected_comments.append(Rejection("comments response is not [Listing(t3), Listing(t1)]", body))
            return out
        for node in (body[0].get("data") or {}).get("children") or []:
            add_thing(out, node, source=source, observed_at=observed_at, where="submission")
        for node in _tree((body[1].get("data") or {}).get("children") or []):
            add_thing(out, node, source=source, observed_at=observed_at, where="comments")
    elif endpoint == "morechildren":
        things = (((body or {}).get("json") or {}).get("data") or {}).get("things") if isinstance(body, dict) else None
        if not isinstance(things, list):
            out.rejected_comments.append(Rejection("morechildren response has no json.data.things", body))
            return out
        for node in things:
            add_thing(out, node, source=source, observed_at=observed_at, where="comments")
    else:
        out.rejected_submissions.append(Rejection(f"unknown landed endpoint {endpoint!r}", body))
    return out
