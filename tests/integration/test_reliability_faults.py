"""Source faults: every source's stand-in answers 429 (with ``Retry-After``), 500, stalls past the client's timeout and
truncated bodies; the pipeline retries with backoff, honours ``Retry-After``, and ends with exactly the data of a
clean run, or with a clear failure that wrote nothing. Never partial, silent data.

The faults come from :class:`FaultProxy`, one HTTP proxy on 127.0.0.1 put in front of each source's own stand-in
(Reddit replay server, GitHub replay server, the fake OpenAI server, the ClickHouse stand-in), so every source sees
the same four faults through its real client library (praw/prawcore, httpx, openai). Each test runs the pipeline once
against the clean stand-in and once through the faults, on two fresh lakehouses, and compares table fingerprints.
"""

from __future__ import annotations

import fnmatch
import http.client
import json
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from tests.integration._reliability import record

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "content-length", "content-encoding"}


@dataclass
class ProxyFault:
    """Answer ``times`` requests matching ``pattern`` (fnmatch on the path) with ``kind``; ``after`` lets some pass."""

    pattern: str
    kind: str  # "429" | "500" | "stall" | "truncate"
    times: int = 1
    after: int = 0
    retry_after: int = 1
    stall_s: float = 3.0
    seen: int = 0
    fired: int = 0


@dataclass
class FaultProxy:
    """A forwarding HTTP proxy to ``upstream`` that injects :class:`ProxyFault` s and logs what it did."""

    upstream: str
    faults: list[ProxyFault] = field(default_factory=list)
    log: list[tuple[str, str, str]] = field(default_factory=list)  # (method, path, what happened)

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self.arrivals: dict[str, list[float]] = {}
        self._pending_429: dict[str, tuple[float, int]] = {}
        self.retry_after_gaps: list[tuple[float, int]] = []  # (seconds until the retry, Retry-After asked)

    def _pick(self, path: str) -> ProxyFault | None:
        with self._lock:
            matching = [f for f in self.faults if fnmatch.fnmatchcase(path, f.pattern)]
            for f in matching:
                f.seen += 1  # every matching request counts towards every fault's ``after``
            for f in matching:
                if f.seen > f.after and f.fired < f.times:
                    f.fired += 1
                    return f
        return None

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        proxy = self
        up = urlsplit(self.upstream)

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def _forward(self) -> tuple[int, list[tuple[str, str]], bytes]:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else None
                conn = http.client.HTTPConnection(up.hostname, up.port, timeout=60)
                headers = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "accept-encoding")}
                conn.request(self.command, (up.path.rstrip("/") + self.path) or "/", body=body, headers=headers)
                resp = conn.getresponse()
                data = resp.read()
                conn.close()
                return resp.status, [(k, v) for k, v in resp.getheaders() if k.lower() not in HOP_BY_HOP], data

            def _send(self, status: int, headers: list[tuple[str, str]], data: bytes, announce: int | None = None):
                self.send_response(status)
                for k, v in headers:
                    self.send_header(k, v)
                self.send_header("Content-Length", str(announce if announce is not None else len(data)))
                if announce is not None:
                    self.send_header("Connection", "close")
                self.end_headers()
                self.wfile.write(data)
                self.wfile.flush()

            def _serve(self) -> None:
                path = urlsplit(self.path).path
                now = time.monotonic()
                with proxy._lock:
                    proxy.arrivals.setdefault(path, []).append(now)
                    if path in proxy._pending_429:
                        at, asked = proxy._pending_429.pop(path)
                        proxy.retry_after_gaps.append((now - at, asked))
                fault = proxy._pick(path)
                with proxy._lock:  # logged now: a stalled answer may still be pending when the client gave up
                    proxy.log.append((self.command, path, fault.kind if fault else "ok"))
                if fault is None:
                    self._send(*self._forward())
                elif fault.kind in ("429", "500"):
                    length = int(self.headers.get("Content-Length") or 0)
                    if length:
                        self.rfile.read(length)
                    status = int(fault.kind)
                    headers = [("Content-Type", "application/json")]
                    if status == 429:
                        headers.append(("Retry-After", str(fault.retry_after)))
                        with proxy._lock:
                            proxy._pending_429[path] = (time.monotonic(), fault.retry_after)
                    body = json.dumps({"message": f"injected {status}", "error": status}).encode()
                    self._send(status, headers, body)
                elif fault.kind == "stall":
                    time.sleep(fault.stall_s)  # past the client's timeout: it gives up and retries
                    with suppress(BrokenPipeError, ConnectionResetError):
                        self._send(*self._forward())
                elif fault.kind == "truncate":
                    status, headers, data = self._forward()
                    cut = max(1, len(data) // 3)
                    with suppress(BrokenPipeError, ConnectionResetError):
                        self._send(status, headers, data[:cut], announce=len(data))
                    self.close_connection = True

            def do_GET(self) -> None:
                self._serve()

            def do_POST(self) -> None:
                self._serve()

        return Handler

    def __enter__(self) -> FaultProxy:
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def injected(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for _, _, what in self.log:
            if what != "ok":
                counts[what] = counts.get(what, 0) + 1
        return counts

    def honoured_retry_after(self) -> bool:
        """Every request answered 429 was retried, and no sooner than its Retry-After (10 % clock slack)."""
        asked = sum(1 for f in self.faults if f.kind == "429" for _ in range(f.fired))
        return len(self.retry_after_gaps) == asked and all(gap >= want * 0.9 for gap, want in self.retry_after_gaps)


@contextmanager
def fresh_lakehouse(base: Path, name: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    from madlake.lakehouse.catalog import reset_catalog_cache

    home = base / name
    monkeypatch.setenv("MADLAKE_HOME", str(home))
    reset_catalog_cache()
    try:
        yield home
    finally:
        reset_catalog_cache()


def fingerprints(names: list[str]) -> dict[str, Any]:
    """Fingerprints comparable across two independent runs: also without fetch/load times of the upstream rows."""
    from madlake.config import get_settings
    from madlake.lakehouse.catalog import get_catalog

    from tests.fingerprint import VOLATILE_COLUMNS, fingerprint_table

    catalog = get_catalog()
    ns = get_settings().namespace
    exclude = VOLATILE_COLUMNS | {"first_seen_at", "source_loaded_at"}
    return {n: fingerprint_table(catalog.load_table(f"{ns}.{n}"), exclude=exclude) for n in names}


def compare(clean: dict[str, Any], faulty: dict[str, Any]) -> list[str]:
    from tests.fingerprint import diff

    return diff(clean, faulty)


def run_both(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    tables: list[str],
    run: Callable[[str, bool], Any],
) -> tuple[dict[str, Any], dict[str, Any], Any, Any]:
    """``run(label, with_faults)`` on two fresh lakehouses; returns both fingerprints and results."""
    with fresh_lakehouse(tmp_path, "clean", monkeypatch):
        clean_result = run("clean", False)
        clean = fingerprints(tables)
    with fresh_lakehouse(tmp_path, "faulty", monkeypatch):
        faulty_result = run("faulty", True)
        faulty = fingerprints(tables)
    return clean, faulty, clean_result, faulty_result


# --------------------------------------------------------------------------------------------------------------------
# Reddit: praw/prawcore against the Reddit replay server
# --------------------------------------------------------------------------------------------------------------------

REDDIT_DAY = date(2025, 8, 8)


def test_reddit_faults_are_retried_and_every_good_record_loads(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from madlake.config import get_settings
    from madlake.names import Table
    from madlake.pipelines import reddit as pipeline
    from madlake.sources.reddit.client import Credentials, RedditFetcher, make_reddit
    from madlake.sources.reddit.landing import LandingWriter
    from madlake.sources.replay_server import ReplayServer

    monkeypatch.setenv("MADLAKE_PROFILE", "local")
    sample = get_settings().replay_path("reddit")
    sleeps: list[float] = []
    proxies: list[FaultProxy] = []

    def run(label: str, with_faults: bool) -> dict[str, Any]:
        faults = (
            [
                ProxyFault("/r/dataengineering/new*", "429", retry_after=2),
                ProxyFault("/comments/pfwuyg*", "500", times=2),
                ProxyFault("/comments/npxcqc*", "stall", stall_s=5.0),
                ProxyFault("/comments/1mkowrw*", "truncate"),
            ]
            if with_faults
            else []
        )
        with ReplayServer(sample) as server, FaultProxy(server.url, faults) as proxy:
            proxies.append(proxy)
            writer = LandingWriter(get_settings().raw_uri, REDDIT_DAY, datetime.now(UTC), run_id=label)
            reddit = make_reddit(Credentials("id", "secret", "madlake-tests"), proxy.url, timeout=3)

            def sleep(s: float) -> None:
                sleeps.append(s)
                time.sleep(s)

            fetcher = RedditFetcher(reddit, writer, max_attempts=4, sleep=sleep)
            for sid in fetcher.fetch_new("dataengineering"):
                fetcher.fetch_thread(sid, "r_dataengineering")
            fetcher.fetch_thread("1mkowrw", "threads")
            stats = fetcher.stats.summary()
            landing = writer.finish(stats)
        loaded = pipeline.load(REDDIT_DAY, landings=[landing])
        return {"stats": stats, "loaded": loaded}

    tables = [Table.REDDIT_SUBMISSIONS, Table.REDDIT_COMMENTS]
    clean, faulty, _clean_result, faulty_result = run_both(tmp_path, monkeypatch, tables, run)

    proxy = proxies[-1]
    problems = compare(clean, faulty)
    record(
        "source_faults_reddit",
        faults_injected=proxy.injected(),
        requests=len(proxy.log),
        backoff_sleeps=len(sleeps),
        retry_after_honoured=proxy.honoured_retry_after(),
        rows_clean=sum(p.rows for p in clean.values()),
        rows_with_faults=sum(p.rows for p in faulty.values()),
        skipped_with_faults=len(faulty_result["stats"]["skipped"]),
        differences=len(problems),
    )
    assert set(proxy.injected()) == {"429", "500", "stall", "truncate"}, proxy.log
    assert sum(p.rows for p in clean.values()) > 300
    assert not faulty_result["stats"]["skipped"], faulty_result["stats"]["skipped"]
    assert not problems, problems
    assert 2.0 in sleeps and proxy.honoured_retry_after(), sleeps


# --------------------------------------------------------------------------------------------------------------------
# LLM: openai structured outputs against the fake OpenAI server
# --------------------------------------------------------------------------------------------------------------------


def test_llm_faults_are_retried_and_every_item_is_enriched(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from madlake.names import Table
    from madlake.pipelines import mentions
    from madlake.pipelines import reddit as reddit_pipeline

    from tests.integration.fake_openai import fake_openai

    monkeypatch.setenv("MADLAKE_PROFILE", "local")
    proxies: list[FaultProxy] = []

    def run(label: str, with_faults: bool) -> dict[str, Any]:
        reddit_pipeline.ingest(REDDIT_DAY, subreddits=["dataengineering"], threads=["1mkowrw"], max_attempts=1)
        reddit_pipeline.load(REDDIT_DAY)
        faults = (
            [
                ProxyFault("/v1/chat/completions", "429", retry_after=1, after=1),
                ProxyFault("/v1/chat/completions", "500", times=2, after=3),
                ProxyFault("/v1/chat/completions", "stall", stall_s=5.0, after=6),
                ProxyFault("/v1/chat/completions", "truncate", after=8),
            ]
            if with_faults
            else []
        )
        with fake_openai() as fake, FaultProxy(fake.url.removesuffix("/v1"), faults) as proxy:
            proxies.append(proxy)
            extra = {"model": "fake-model", "timeout": 3, "max_retries": 4}
            conn = {"conn_type": "generic", "host": f"{proxy.url}/v1", "password": "k", "extra": extra}
            monkeypatch.setenv("AIRFLOW_CONN_MADLAKE_LLM", json.dumps(conn))
            return mentions.process(method="llm", reprocess_all=True)

    tables = [Table.REDDIT_MENTIONS]
    clean, faulty, _clean_result, faulty_result = run_both(tmp_path, monkeypatch, tables, run)
    proxy = proxies[-1]
    problems = compare(clean, faulty)
    methods = faulty_result.get("methods") or faulty_result
    record(
        "source_faults_llm",
        faults_injected=proxy.injected(),
        requests=len(proxy.log),
        retry_after_honoured=proxy.honoured_retry_after(),
        rows_clean=clean[Table.REDDIT_MENTIONS].rows,
        rows_with_faults=faulty[Table.REDDIT_MENTIONS].rows,
        differences=len(problems),
        summary=str(methods)[:300],
    )
    assert set(proxy.injected()) == {"429", "500", "stall", "truncate"}, proxy.log
    assert clean[Table.REDDIT_MENTIONS].rows > 0
    assert faulty_result["llm"]["fallbacks"] == 0, "an item silently fell back to the lexicon"
    assert not problems, problems


# --------------------------------------------------------------------------------------------------------------------
# GitHub: the httpx client in live mode, its API root taken from connection github_default
# --------------------------------------------------------------------------------------------------------------------

GITHUB_DAY = date(2026, 8, 22)


def test_github_faults_are_retried_and_every_repository_is_snapshotted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from madlake.config import get_settings
    from madlake.names import Table
    from madlake.pipelines.github import snapshot_repos
    from madlake.sources.github.replay import GitHubReplayServer

    monkeypatch.setenv("MADLAKE_PROFILE", "local")
    root = get_settings().replay_path("github")
    proxies: list[FaultProxy] = []

    def run(label: str, with_faults: bool) -> dict[str, Any]:
        from madlake.lakehouse.tables import ensure_tables

        ensure_tables()
        faults = (
            [
                ProxyFault("/repos/*", "429", retry_after=1, after=2),
                ProxyFault("/graphql", "500", times=2),
                ProxyFault("/repos/*", "truncate", after=6),
            ]
            if with_faults
            else []
        )
        with GitHubReplayServer(root) as server, FaultProxy(server.url, faults) as proxy:
            proxies.append(proxy)
            conn = {"conn_type": "generic", "host": proxy.url, "password": "test-token"}
            monkeypatch.setenv("AIRFLOW_CONN_GITHUB_DEFAULT", json.dumps(conn))
            return snapshot_repos(GITHUB_DAY, source_mode="live")

    tables = [Table.GITHUB_REPO_SNAPSHOTS, Table.REJECTED_RECORDS]
    clean, faulty, _clean_result, _faulty_result = run_both(tmp_path, monkeypatch, tables, run)
    proxy = proxies[-1]
    problems = compare(clean, faulty)
    record(
        "source_faults_github",
        faults_injected=proxy.injected(),
        requests=len(proxy.log),
        retry_after_honoured=proxy.honoured_retry_after(),
        rows_clean=clean[Table.GITHUB_REPO_SNAPSHOTS].rows,
        rows_with_faults=faulty[Table.GITHUB_REPO_SNAPSHOTS].rows,
        differences=len(problems),
        stall="not injected: the GitHub client's 30 s timeout is not configurable per connection",
    )
    assert set(proxy.injected()) == {"429", "500", "truncate"}, proxy.log
    assert clean[Table.GITHUB_REPO_SNAPSHOTS].rows > 0
    assert proxy.honoured_retry_after(), proxy.retry_after_gaps
    assert not problems, problems


# --------------------------------------------------------------------------------------------------------------------
# PyPI: ClickPy (ClickHouse HTTP interface) through httpx
# --------------------------------------------------------------------------------------------------------------------


def test_pypi_faults_fail_the_attempt_clearly_and_the_retry_loads_everything(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """ClickPy's client makes one request per day and does not retry: each fault must fail the attempt with a clear
    error and write nothing, and the next attempt (Airflow's task retry, with exponential backoff) loads the day."""
    from madlake.names import Table
    from madlake.pipelines.pypi import load_day, tracked_projects

    from tests.integration.pypi_standins import ClickHouseStandIn
    from tests.integration.test_pypi_sources import DAY, clickpy_rows

    monkeypatch.setenv("MADLAKE_PROFILE", "local")
    monkeypatch.setenv("MADLAKE_SOURCE_MODE", "live")
    monkeypatch.setenv("MADLAKE_PYPI_SOURCE", "clickpy")
    monkeypatch.setenv("MADLAKE_PYPI_HTTP_TIMEOUT_S", "3")
    failures: list[str] = []
    proxies: list[FaultProxy] = []
    unchanged_after_failure: list[bool] = []

    def run(label: str, with_faults: bool) -> dict[str, Any]:
        from tests.fingerprint import fingerprint_lakehouse

        kinds = ["429", "500", "stall", "truncate"] if with_faults else []
        faults = [ProxyFault("/*", kind, after=i, stall_s=5.0) for i, kind in enumerate(kinds)]
        with ClickHouseStandIn(user="play") as server, FaultProxy(server.url, faults) as proxy:
            proxies.append(proxy)
            server.load(clickpy_rows(tracked_projects()))
            conn = {"conn_type": "http", "host": proxy.url, "login": "play"}
            monkeypatch.setenv("AIRFLOW_CONN_MADLAKE_CLICKPY", json.dumps(conn))
            for _ in kinds:  # each attempt meets the next fault
                before = fingerprint_lakehouse([Table.PYPI_DOWNLOADS])
                with pytest.raises(Exception) as failed:
                    load_day(DAY)
                failures.append(f"{type(failed.value).__name__}: {failed.value}"[:200])
                unchanged_after_failure.append(fingerprint_lakehouse([Table.PYPI_DOWNLOADS]) == before)
            return load_day(DAY)

    tables = [Table.PYPI_DOWNLOADS]
    clean, faulty, clean_result, faulty_result = run_both(tmp_path, monkeypatch, tables, run)
    proxy = proxies[-1]
    problems = compare(clean, faulty)
    record(
        "source_faults_pypi_clickpy",
        faults_injected=proxy.injected(),
        failed_attempts=len(failures),
        failures_wrote_nothing=all(unchanged_after_failure),
        rows_clean=clean[Table.PYPI_DOWNLOADS].rows,
        rows_after_retry=faulty[Table.PYPI_DOWNLOADS].rows,
        differences=len(problems),
        errors=failures,
    )
    assert set(proxy.injected()) == {"429", "500", "stall", "truncate"}, proxy.log
    assert len(failures) == 4 and all(unchanged_after_failure)
    assert "HTTP 429" in failures[0] and "HTTP 500" in failures[1], failures
    assert clean_result["rows"] == faulty_result["rows"] > 0
    assert not problems, problems
