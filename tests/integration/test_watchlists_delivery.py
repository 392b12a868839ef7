"""Watchlist delivery against real local webhook endpoints (HTTP servers on 127.0.0.1) through Airflow's HttpNotifier.

The endpoints: one that accepts everything (counts what it got per event id), one that fails its first N requests
then accepts, one that always fails. The connection comes from an ``AIRFLOW_CONN_<ID>`` environment variable whose
URL carries a token in its path: that token must never reach the logs or the delivery log.
"""

from __future__ import annotations

import json
import logging
import threading
from collections import Counter
from collections.abc import Iterator
from datetime import date
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

pytestmark = pytest.mark.integration

TOKEN = "T0KEN-s3cr3t-9f8e7d6c5b4a"


class Endpoint:
    """A webhook on 127.0.0.1: ``fail_first`` requests answer 500 (``None``: all of them), then 200."""

    def __init__(self, fail_first: int | None = 0) -> None:
        self.fail_first = fail_first
        self.requests: list[dict[str, Any]] = []
        self.paths: list[str] = []
        endpoint = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                endpoint.paths.append(self.path)
                endpoint.requests.append(body)
                failing = endpoint.fail_first is None or len(endpoint.requests) <= endpoint.fail_first
                self.send_response(500 if failing else 200)
                self.end_headers()
                self.wfile.write(b"boom" if failing else b"ok")

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/hooks/{TOKEN}"

    def delivered(self) -> Counter:
        return Counter(r["event"]["id"] for r in self.requests)

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(scope="module", autouse=True)
def _airflow_logging_configured() -> None:
    """Let Airflow configure logging (on its first import) before ``caplog`` attaches, so caplog sees the records."""
    import contextlib

    from airflow.providers.http.notifications.http import HttpNotifier  # noqa: F401
    from airflow.sdk import Connection

    with contextlib.suppress(Exception):
        Connection.get("madlake_no_such_connection")


@pytest.fixture
def endpoints() -> Iterator[list[Endpoint]]:
    made: list[Endpoint] = []
    yield made
    for e in made:
        e.close()


def _connect(monkeypatch: pytest.MonkeyPatch, conn_id: str, endpoint: Endpoint) -> None:
    monkeypatch.setenv(f"AIRFLOW_CONN_{conn_id.upper()}", json.dumps({"conn_type": "http", "host": endpoint.url}))


def _events_in_lakehouse() -> list[dict]:
    """Three months of a small OLAP history: an overtake, a top-3 change, a method break; written to tool_events."""
    import pyarrow as pa
    from madlake.lakehouse.tables import ensure_tables, load_table
    from madlake.lakehouse.writes import CommitContext, replace_partition
    from madlake.names import Table
    from madlake.watchlists.events import compute_events
    from pyiceberg.expressions import AlwaysTrue

    def row(m: date, tool: str, rank: int, score: float, method: str = "pip-30d") -> dict:
        return {
            "month": m,
            "tool_id": tool,
            "category": "olap_database",
            "score": score,
            "rank_in_category": rank,
            "signals": "downloads",
            "downloads_method": method,
            "growth_mom": None,
            "growth_mom_spans_break": False,
            "is_sample": False,
        }

    m1, m2, m3 = date(2026, 1, 1), date(2026, 2, 1), date(2026, 3, 1)
    rows = [row(m1, t, i + 1, 100.0 - 5 * i) for i, t in enumerate(["clickhouse", "duckdb", "druid", "pinot"])]
    rows += [row(m2, t, i + 1, 100.0 - 5 * i) for i, t in enumerate(["duckdb", "clickhouse", "pinot", "druid"])]
    rows += [row(m3, t, i + 1, 100.0 - 5 * i, "calendar-month") for i, t in enumerate(["pinot", "duckdb"])]
    events = compute_events(rows)
    ensure_tables([Table.TOOL_EVENTS])
    table = load_table(Table.TOOL_EVENTS)
    from datetime import UTC, datetime

    data = pa.Table.from_pylist(
        [{**e, "computed_at": datetime.now(UTC)} for e in events], schema=table.schema().as_arrow()
    )
    replace_partition(table, data, AlwaysTrue(), CommitContext.standalone("test"))
    return events


def _watchlists(*conn_ids: str):
    from madlake.watchlists.io import parse_watchlists

    notify = ", ".join(f"{{conn_id: {c}}}" for c in conn_ids)
    return parse_watchlists(
        f"watchlists:\n  - {{name: olap, title: OLAP, categories: [olap_database], notify: [{notify}]}}\n", "test"
    )


def _log_rows() -> dict:
    from madlake.watchlists.delivery import read_deliveries

    return read_deliveries()


def test_each_event_is_sent_once_and_a_rerun_sends_nothing_twice(
    lakehouse, endpoints, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    from madlake.watchlists.delivery import deliver

    events = _events_in_lakehouse()
    news = [e for e in events if e["is_news"]]
    assert {e["kind"] for e in news} >= {"overtake", "entered_top", "left_top"}
    assert any(e["kind"] == "method_break" for e in events)  # an artefact: not in the watchlist's default kinds
    ok = Endpoint()
    endpoints.append(ok)
    _connect(monkeypatch, "watch_ok", ok)
    wl = _watchlists("watch_ok")
    caplog.set_level(logging.DEBUG)

    first = deliver(wl, sleep=lambda s: None)
    assert first["sent"] == len(news) and first["failed"] == 0
    assert ok.delivered() == Counter({e["event_id"]: 1 for e in news})
    assert all(p == f"/hooks/{TOKEN}" for p in ok.paths)
    body = next(r for r in ok.requests if r["event"]["kind"] == "overtake")
    assert body["text"].startswith("[OLAP] DuckDB overtook ClickHouse") or body["text"].startswith("[OLAP] duckdb")
    assert body["event"]["link"] == "tool/duckdb.html" and body["event"]["details"]["previous_rank"] == 2

    second = deliver(wl, sleep=lambda s: None)  # a rerun (or a backfill recomputing the same events)
    assert second == {"sent": 0, "failed": 0, "already_sent": len(news), "skipped_destinations": []}
    assert ok.delivered() == Counter({e["event_id"]: 1 for e in news})
    rows = _log_rows()
    assert {r["status"] for r in rows.values()} == {"sent"} and len(rows) == len(news)
    assert all(r["attempts"] == 1 and r["sent_at"] is not None for r in rows.values())
    assert TOKEN not in caplog.text
    assert "watchlist olap -> watch_ok: 4 sent" in caplog.text  # the deliveries are logged (urllib3 logs the
    assert "POST <redacted>" in caplog.text or "POST ***" in caplog.text  # request path at debug: redacted)


def test_a_failing_endpoint_is_retried_and_recorded(
    lakehouse, endpoints, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    from madlake.watchlists.delivery import deliver
    from madlake.watchlists.rules import Thresholds

    events = [e for e in _events_in_lakehouse() if e["is_news"]]
    t = Thresholds(deliver_attempts=3, deliver_backoff_seconds=0.01)
    flaky, down = Endpoint(fail_first=2), Endpoint(fail_first=None)
    endpoints += [flaky, down]
    _connect(monkeypatch, "watch_flaky", flaky)
    _connect(monkeypatch, "watch_down", down)
    wl = _watchlists("watch_flaky", "watch_down")
    caplog.set_level(logging.DEBUG)
    waits: list[float] = []

    first = deliver(wl, t=t, sleep=waits.append)
    assert first["sent"] == len(events)  # the flaky one: its first event after 2 failures, the rest at once
    assert first["failed"] == len(events)  # the one that is down: every event, after 3 attempts each
    assert waits[:2] == [0.01, 0.02]  # exponential backoff between attempts
    rows = _log_rows()
    flaky_rows = [r for (_, _, d), r in rows.items() if d == "watch_flaky"]
    assert sorted(r["attempts"] for r in flaky_rows) == [1] * (len(events) - 1) + [3]
    assert {r["status"] for r in flaky_rows} == {"sent"}
    assert Counter(r["event"]["id"] for r in flaky.requests[2:]) == Counter({e["event_id"]: 1 for e in events})
    down_rows = [r for (_, _, d), r in rows.items() if d == "watch_down"]
    assert {(r["status"], r["attempts"]) for r in down_rows} == {("failed", 3)}
    assert all("500" in r["error"] and TOKEN not in r["error"] for r in down_rows)
    assert all(r["sent_at"] is None for r in down_rows)

    # The next run retries only what failed; the sent ones are not sent again.
    before = len(flaky.requests)
    second = deliver(wl, t=t, sleep=lambda s: None)
    assert second["sent"] == 0 and second["failed"] == len(events) and second["already_sent"] == len(events)
    assert len(flaky.requests) == before
    assert {(r["status"], r["attempts"]) for (_, _, d), r in _log_rows().items() if d == "watch_down"} == {
        ("failed", 6)
    }
    down.fail_first = 0  # the endpoint recovers: the failed events go out, once
    third = deliver(wl, t=t, sleep=lambda s: None)
    assert third["sent"] == len(events)
    assert {(r["status"], r["attempts"]) for (_, _, d), r in _log_rows().items() if d == "watch_down"} == {("sent", 7)}
    assert TOKEN not in caplog.text
    assert "watchlist olap -> watch_down: 4 sent" in caplog.text


def test_an_unreachable_endpoint_is_recorded_without_its_url(lakehouse, monkeypatch, caplog) -> None:
    """requests puts the URL (with the token in its path) in a connection error: the log and the record must not."""
    import socket

    from madlake.watchlists.delivery import deliver
    from madlake.watchlists.rules import Thresholds

    _events_in_lakehouse()
    caplog.set_level(logging.DEBUG)
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    url = f"http://127.0.0.1:{port}/hooks/{TOKEN}"
    monkeypatch.setenv("AIRFLOW_CONN_WATCH_DEAD", json.dumps({"conn_type": "http", "host": url}))
    summary = deliver(_watchlists("watch_dead"), t=Thresholds(deliver_attempts=2), sleep=lambda s: None)
    assert summary["failed"] == 4 and summary["sent"] == 0
    errors = [r["error"] for r in _log_rows().values()]
    assert all("ConnectionError" in e and TOKEN not in e for e in errors), errors
    assert "attempt 2/2 failed" in caplog.text and TOKEN not in caplog.text


def test_an_undefined_connection_is_skipped_and_nothing_is_recorded(lakehouse, monkeypatch) -> None:
    from madlake.watchlists.delivery import deliver

    _events_in_lakehouse()
    monkeypatch.delenv("AIRFLOW_CONN_WATCH_NOWHERE", raising=False)
    summary = deliver(_watchlists("watch_nowhere"), sleep=lambda s: None)
    assert summary["skipped_destinations"] == ["olap:watch_nowhere"] and summary["sent"] == 0
    assert _log_rows() == {}
