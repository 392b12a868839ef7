"""The Reddit client: praw (read-only OAuth) for auth, rate limiting and retries, keeping the JSON Reddit returned.

praw's high-level objects drop the raw JSON, so requests go through ``praw.Reddit.request`` (public since praw 7),
which returns the parsed JSON while still using praw's OAuth token handling and prawcore's rate limiter (it sleeps
according to Reddit's ``x-ratelimit-*`` headers) and its retries of connection errors and 5xx answers.

On top of that, :class:`RedditFetcher` adds:

* back-off on ``429 Too Many Requests`` (honouring ``Retry-After``, capped) and on 5xx/connection errors that outlived
  prawcore's own retries, up to ``max_attempts`` per request; a request that still fails is *skipped*, landed with its
  error and reported, and the run goes on;
* ``404``/``403`` (removed post, private or banned subreddit) are recorded as skipped at once, never retried;
* paginated ``/new`` listings (``after`` cursor) up to ``limit`` submissions;
* comment trees with a ``replace_more`` budget: ``more`` stubs are expanded through ``/api/morechildren`` (100 ids per
  call) until ``more_budget`` calls per thread are spent; what is left is reported as skipped.

Modes: ``live`` reads the client id/secret/user agent from the Airflow connection ``reddit_default`` (login, password,
``extra.user_agent``) or praw's standard ``praw_client_id``/``praw_client_secret``/``praw_user_agent`` environment
variables. ``replay`` starts a :class:`~madlake.sources.replay_server.ReplayServer` on 127.0.0.1 over
``$MADLAKE_REPLAY_DIR/reddit`` and points the same praw client at it (``oauth_url``/``reddit_url``).
"""

from __future__ import annotations

import contextlib
import logging
import os
import random
import re
import time
import weakref
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import praw
import prawcore
import requests

from madlake.config import get_settings
from madlake.names import Conn
from madlake.redaction import register_secret
from madlake.sources.reddit.history import CAPTURED_HEADER, RedditHistory, has_history
from madlake.sources.reddit.landing import LandingWriter
from madlake.sources.replay_server import ReplayServer

log = logging.getLogger(__name__)

MORECHILDREN_BATCH = 100
#: The HTTP session of each client made by :func:`make_reddit` (to read the replay's capture-time header).
_SESSIONS: weakref.WeakKeyDictionary[Any, Any] = weakref.WeakKeyDictionary()
_BASE36 = re.compile(r"^[0-9a-z]{1,16}$")


@dataclass(frozen=True)
class Credentials:
    client_id: str
    client_secret: str
    user_agent: str

    def __repr__(self) -> str:  # never leak the secret into logs or tracebacks
        return f"Credentials(client_id={self.client_id!r}, client_secret='***', user_agent={self.user_agent!r})"


def live_credentials() -> Credentials:
    """Credentials from the Airflow connection :data:`Conn.REDDIT`, else praw's standard environment variables.

    Raises:
        RuntimeError: neither source provides a client id and secret (the message says where to put them).
    """
    try:
        from airflow.sdk import BaseHook  # noqa: PLC0415 - optional: outside a task the environment answers

        conn = BaseHook.get_connection(Conn.REDDIT)
        extra = conn.extra_dejson or {}
        if conn.login and conn.password:
            register_secret(conn.password)
            return Credentials(conn.login, conn.password, extra.get("user_agent") or "madlake/0.1")
    except Exception as exc:
        log.debug("No Airflow connection %s (%s); trying praw_* environment variables", Conn.REDDIT, type(exc).__name__)
    env = os.environ  # praw's own lower-case variable names
    cid, secret = env.get("praw_client_id"), env.get("praw_client_secret")
    if cid and secret:
        return Credentials(cid, secret, env.get("praw_user_agent", "madlake/0.1"))
    raise RuntimeError(
        f"No Reddit credentials: set the Airflow connection {Conn.REDDIT!r} (login=client id, password=secret, "
        "extra.user_agent) or praw_client_id/praw_client_secret"
    )


class _ObservingSession:
    """Builds the ``requests.Session`` praw talks through, remembering the replay's capture-time header.

    A replayed recording says when it was captured (:data:`madlake.sources.reddit.history.CAPTURED_HEADER`); the
    fetcher takes that as the observation time instead of the wall clock. Live Reddit sends no such header.
    """

    @staticmethod
    def make() -> requests.Session:
        session = requests.Session()
        session.madlake_captured_at = None  # type: ignore[attr-defined]

        def remember(response: requests.Response, *args: Any, **kwargs: Any) -> requests.Response:
            value = response.headers.get(CAPTURED_HEADER)
            session.madlake_captured_at = value  # type: ignore[attr-defined]
            return response

        session.hooks["response"].append(remember)
        return session


def captured_at(reddit: praw.Reddit) -> datetime | None:
    """The capture time a replayed answer announced for the last request (``None`` live, or when absent)."""
    value = getattr(_SESSIONS.get(reddit), "madlake_captured_at", None)
    if not value:
        return None
    try:
        at = datetime.fromisoformat(value)
    except ValueError:
        return None
    return at if at.tzinfo else at.replace(tzinfo=UTC)


def make_reddit(credentials: Credentials, base_url: str | None = None, *, timeout: int = 30) -> praw.Reddit:
    """A read-only ``praw.Reddit``; ``base_url`` points both OAuth and API at a local server (replay)."""
    kwargs: dict[str, Any] = {}
    if base_url:
        kwargs = {"oauth_url": base_url, "reddit_url": base_url}
    session = _ObservingSession.make()
    reddit = praw.Reddit(
        requestor_kwargs={"session": session},
        client_id=credentials.client_id,
        client_secret=credentials.client_secret,
        user_agent=credentials.user_agent,
        check_for_updates=False,
        check_for_async=False,
        timeout=timeout,
        **kwargs,
    )
    reddit.read_only = True
    _SESSIONS[reddit] = session
    return reddit


@dataclass
class RedditSession:
    """A praw client, and in a replay of the recorded history the day being replayed (``history``, else ``None``)."""

    reddit: praw.Reddit
    history: RedditHistory | None = None


@contextlib.contextmanager
def reddit_session(mode: str, replay_dir: Path | None = None, day: date | None = None) -> Iterator[RedditSession]:
    """A praw client for ``mode`` (``live`` or ``replay``); replay runs a local server for the session's lifetime.

    In replay, when the folder holds the day-by-day history layout (:mod:`madlake.sources.reddit.history`) and
    ``day`` is given, the server serves that day's recorded listings and trees (``session.history``).
    """
    if mode == "live":
        yield RedditSession(make_reddit(live_credentials()))
        return

    if replay_dir is None:
        replay_dir = get_settings().replay_path("reddit")
    if not replay_dir.is_dir():
        raise FileNotFoundError(f"Reddit replay folder {replay_dir} does not exist (MADLAKE_REPLAY_DIR)")
    # Later pages of a listing, when recorded, live beside the first: r/<sub>/new@after=t3_<id>.json
    history = RedditHistory(replay_dir, day) if day is not None and has_history(replay_dir) else None
    responder = history.respond if history is not None else None
    with ReplayServer(replay_dir, query_keys=("after",), responder=responder) as server:
        reddit = make_reddit(Credentials("replay-client", "replay-secret", "madlake-replay/0.1"), server.url)
        yield RedditSession(reddit, history)


class SkippedRequestError(Exception):
    """A request that could not be answered: a 4xx that retrying cannot fix, or retries exhausted."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


@dataclass
class FetchStats:
    submissions: int = 0
    threads: int = 0
    comments: int = 0
    more_calls: int = 0
    requests: int = 0
    answered: int = 0
    retries: int = 0
    skipped: list[dict[str, Any]] = field(default_factory=list)

    def summary(self) -> dict[str, Any]:
        return {
            "submissions_listed": self.submissions,
            "threads_fetched": self.threads,
            "comments_fetched": self.comments,
            "morechildren_calls": self.more_calls,
            "requests": self.requests,
            "answered": self.answered,
            "retries": self.retries,
            "skipped": self.skipped,
        }


@dataclass
class RedditFetcher:
    """Fetches listings and comment trees into a :class:`LandingWriter`. One per ingest run.

    Args:
        reddit: a praw client (live or pointed at a replay server).
        writer: where every response is landed before anything else happens.
        max_attempts: tries per request for 429/5xx/connection errors (prawcore retries 5xx twice inside each try).
        max_wait: cap in seconds of one back-off sleep (a huge ``Retry-After`` is capped, then counted as a retry).
        sleep: injectable for tests.
    """

    reddit: praw.Reddit
    writer: LandingWriter
    max_attempts: int = 4
    backoff: float = 2.0
    max_wait: float = 60.0
    sleep: Callable[[float], None] = time.sleep
    stats: FetchStats = field(default_factory=FetchStats)
    #: Threads already fetched by this fetcher: a post listed again (a second listing round, the ``threads`` param)
    #: is not fetched twice in one run.
    fetched: set[str] = field(default_factory=set)

    # ------------------------------------------------------------------------------------------------ requests
    def _get(self, part: str, endpoint: str, path: str, params: dict[str, Any]) -> Any:
        """GET ``path`` through praw, land the answer, return the JSON. Raises :class:`SkippedRequestError`."""
        last_status, last_reason = 0, ""
        for attempt in range(1, self.max_attempts + 1):
            fetched_at = datetime.now(UTC)
            self.stats.requests += 1
            wait: float | None = None
            try:
                body = self.reddit.request(method="GET", path=path, params=dict(params))
            except prawcore.exceptions.TooManyRequests as exc:
                last_status, last_reason = 429, str(exc)
                retry_after = exc.retry_after
                wait = float(retry_after) if retry_after else self.backoff * 2 ** (attempt - 1)
            except (
                prawcore.exceptions.NotFound,
                prawcore.exceptions.Forbidden,
                prawcore.exceptions.Redirect,
                prawcore.exceptions.UnavailableForLegalReasons,
            ) as exc:
                status = getattr(getattr(exc, "response", None), "status_code", 0) or 0
                self._land_error(part, endpoint, path, params, fetched_at, status, f"{type(exc).__name__}: {exc}")
                raise SkippedRequestError(status, f"{type(exc).__name__}: {exc}") from exc
            except (
                prawcore.exceptions.ServerError,
                prawcore.exceptions.RequestException,
                prawcore.exceptions.BadJSON,
                prawcore.exceptions.ResponseException,
            ) as exc:
                response = getattr(exc, "response", None)
                last_status = getattr(response, "status_code", 0) or 0
                last_reason = f"{type(exc).__name__}: {exc}"
                if 400 <= last_status < 500 and last_status != 408:  # a client error: the same request fails again
                    self._land_error(part, endpoint, path, params, fetched_at, last_status, last_reason)
                    raise SkippedRequestError(last_status, last_reason) from exc
                wait = self.backoff * 2 ** (attempt - 1) * (0.5 + random.random())  # noqa: S311 - jitter
            else:
                fetched_at = captured_at(self.reddit) or fetched_at  # a replayed recording: when it was captured
                self.writer.write(
                    part, endpoint=endpoint, path=path, params=params, fetched_at=fetched_at, status=200, body=body
                )
                self.stats.answered += 1
                return body
            if attempt < self.max_attempts:
                wait = min(wait, self.max_wait)
                self.stats.retries += 1
                log.warning(
                    "GET /%s failed (%s); retry %d/%d in %.1fs", path, last_reason, attempt, self.max_attempts - 1, wait
                )
                self.sleep(wait)
        reason = f"gave up after {self.max_attempts} attempts: {last_reason}"
        self._land_error(part, endpoint, path, params, datetime.now(UTC), last_status, reason)
        raise SkippedRequestError(last_status, reason)

    def _land_error(
        self, part: str, endpoint: str, path: str, params: dict[str, Any], at: datetime, status: int, reason: str
    ) -> None:
        self.writer.write(part, endpoint=endpoint, path=path, params=params, fetched_at=at, status=status, error=reason)
        self.stats.skipped.append({"endpoint": endpoint, "path": path, "status": status, "reason": reason[:500]})
        # A 404 on a thread is routine (removed post); anything else deserves attention.
        level = logging.INFO if status == 404 and endpoint == "comments" else logging.WARNING
        log.log(level, "Skipped GET /%s: %s", path, reason)

    # ------------------------------------------------------------------------------------------------ listings
    def fetch_new(self, subreddit: str, limit: int = 100) -> list[str]:
        """Page through ``/r/<subreddit>/new`` until ``limit`` submissions; returns their ids (newest first).

        Stops early when a page is empty, has no ``after`` cursor, or brings nothing new (a server ignoring the
        cursor cannot make the loop run for ever). A failed page ends the listing with what was already fetched.
        """
        ids: list[str] = []
        after: str | None = None
        part = f"r_{subreddit}"
        while len(ids) < limit:
            params: dict[str, Any] = {"limit": min(100, limit - len(ids))}
            if after:
                params["after"] = after
            try:
                body = self._get(part, "listing", f"r/{subreddit}/new", params)
            except SkippedRequestError:
                break
            data = body.get("data", {}) if isinstance(body, dict) else {}
            children = data.get("children") or []
            # Only well-formed ids are followed (a malformed record is still landed, and rejected by the load).
            new = [
                c["data"]["id"]
                for c in children
                if isinstance(c, dict)
                and isinstance(c.get("data"), dict)
                and isinstance(c["data"].get("id"), str)
                and _BASE36.match(c["data"]["id"])
                and c["data"]["id"] not in ids
            ]
            ids.extend(new[: limit - len(ids)])
            after = data.get("after")
            if not new or not after:
                break
        self.stats.submissions += len(ids)
        log.info("r/%s: %d submission(s) listed", subreddit, len(ids))
        return ids

    # ------------------------------------------------------------------------------------------------ threads
    def fetch_thread(self, submission_id: str, part: str, more_budget: int = 32) -> int:
        """Fetch one comment tree and expand its ``more`` stubs within ``more_budget`` calls. Returns comments seen.

        A thread this fetcher already fetched is not fetched again (returns 0).
        """
        if submission_id in self.fetched:
            return 0
        self.fetched.add(submission_id)
        try:
            body = self._get(part, "comments", f"comments/{submission_id}", {"limit": 500, "sort": "new"})
        except SkippedRequestError:
            return 0
        self.stats.threads += 1
        comments, stubs = _walk_tree(body)
        calls = 0
        queue = list(stubs)
        while queue:
            stub = queue.pop(0)
            children = [c for c in stub.get("children") or [] if isinstance(c, str)]
            if not children:  # a "continue this thread" stub (count 0): needs a per-comment fetch, not supported
                self._skip_more(submission_id, stub, "continue-this-thread link not followed")
                continue
            for i in range(0, len(children), MORECHILDREN_BATCH):
                batch = children[i : i + MORECHILDREN_BATCH]
                if calls >= more_budget:
                    self._skip_more(submission_id, {**stub, "children": children[i:]}, "replace_more budget spent")
                    break
                calls += 1
                params = {
                    "link_id": f"t3_{submission_id}",
                    "children": ",".join(batch),
                    "api_type": "json",
                    "sort": "new",
                }
                try:
                    more = self._get(part, "morechildren", "api/morechildren", params)
                except SkippedRequestError:
                    continue
                things = (((more or {}).get("json") or {}).get("data") or {}).get("things") or []
                comments += sum(1 for t in things if isinstance(t, dict) and t.get("kind") == "t1")
                queue.extend(t["data"] for t in things if isinstance(t, dict) and t.get("kind") == "more")
        self.stats.more_calls += calls
        self.stats.comments += comments
        return comments

    def _skip_more(self, submission_id: str, stub: dict[str, Any], reason: str) -> None:
        self.stats.skipped.append(
            {
                "endpoint": "morechildren",
                "path": f"comments/{submission_id}",
                "status": 0,
                "reason": f"{reason}: {len(stub.get('children') or [])} stub(s), {stub.get('count', 0)} comment(s)",
            }
        )


def _walk_tree(body: Any) -> tuple[int, list[dict[str, Any]]]:
    """Count ``t1`` nodes of a ``[Listing(t3), Listing(t1)]`` answer and collect its ``more`` stubs."""
    if not (isinstance(body, list) and len(body) == 2 and isinstance(body[1], dict)):
        return 0, []
    count = 0
    stubs: list[dict[str, Any]] = []
    stack = list((body[1].get("data") or {}).get("children") or [])
    while stack:
        node = stack.pop()
        if not isinstance(node, dict):
            continue
        data = node.get("data") or {}
        if node.get("kind") == "more":
            stubs.append(data)
        elif node.get("kind") == "t1":
            count += 1
            replies = data.get("replies")
            if isinstance(replies, dict):
                stack.extend((replies.get("data") or {}).get("children") or [])
    return count, stubs
