"""Secrets in error text (issue #13, item 2): an endpoint that echoes the API key in its error body must not put the
key into the failure log line, the traceback or the JSON POSTed to the alert webhook.

The GitHub DAG runs through Airflow against the local GitHub stand-in, whose every ``/repos`` answer is a 403 echoing
the token the real client sent (in the message and inside a URL). The token comes from ``GITHUB_TOKEN``, which
Airflow's own masker does not know, so only madlake's redaction stands between it and the logs. The unit-level tests
plant secrets on the other paths: URLs with tokens, tracebacks, connection extras, dead letters.
"""

from __future__ import annotations

import io
import json
import logging
import os
import threading
import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from tests.integration._reliability import record

pytestmark = pytest.mark.integration

STAMP = uuid.uuid4().hex[:10]
TOKEN = f"ghp_ECHOED{STAMP}abcdefghij"
CONN_PASSWORD = f"conn-pw-{STAMP}"
EXTRA_KEY = f"extra-key-{STAMP}"


@pytest.fixture
def webhook() -> Iterator[tuple[str, list[bytes]]]:
    received: list[bytes] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            received.append(self.rfile.read(int(self.headers.get("Content-Length", 0))))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/alerts", received
    finally:
        server.shutdown()
        server.server_close()


def test_a_key_echoed_in_an_error_body_reaches_no_log_no_traceback_and_no_alert(
    lakehouse: Path, webhook: tuple[str, list[bytes]], monkeypatch: pytest.MonkeyPatch, capfd
) -> None:
    from madlake.config import get_settings
    from madlake.names import Dag
    from madlake.orchestration.runner import DagRunFailedError, run_dag
    from madlake.sources.replay_server import Request, Response

    from tests.replay_faults import FaultyGitHubReplayServer

    url, received = webhook
    monkeypatch.setenv("AIRFLOW_VAR_MADLAKE_ALERT_WEBHOOK", url)
    monkeypatch.setenv("GITHUB_TOKEN", TOKEN)
    monkeypatch.setenv("MADLAKE_SOURCE_MODE", "live")
    run_dag(Dag.TOOLS_CATALOG)
    seen: list[str] = []

    class Recording(FaultyGitHubReplayServer):
        def answer(self, request: Request) -> Response:
            if request.method == "GET":
                seen.append(request.headers.get("Authorization", ""))
            return super().answer(request)

    server = Recording(get_settings().replay_path("github"))
    echo = {
        "message": f"Forbidden: token {TOKEN} may not read this",
        "documentation_url": f"https://api.github.com/rest?access_token={TOKEN}&page=1",
    }
    with server:
        monkeypatch.setenv("AIRFLOW_CONN_GITHUB_DEFAULT", json.dumps({"conn_type": "generic", "host": server.url}))
        server.inject("/repos", status=403, headers={"Retry-After": "0"}, body=echo, times=100_000)
        with pytest.raises(DagRunFailedError) as failed:
            run_dag(Dag.GITHUB_METRICS, datetime.now(UTC).date())

    captured = capfd.readouterr()
    places = {"stdout": captured.out, "stderr": captured.err, "exception": f"{failed.value!r}"}
    logs = Path(os.environ["AIRFLOW_HOME"]) / "logs"
    for path in logs.rglob("*") if logs.is_dir() else []:
        if path.is_file():
            places[str(path)] = path.read_text(errors="replace")
    places |= {f"alert {i}": body.decode() for i, body in enumerate(received)}
    leaks = [where for where, text in places.items() if TOKEN in text]
    alert = json.loads(received[0]) if received else {}
    record(
        "secret_echo_redaction",
        requests_with_token=sum(TOKEN in h for h in seen),
        alerts=len(received),
        places_searched=len(places),
        leaks=len(leaks),
        alert_error=str(alert.get("error", ""))[:200],
    )
    assert any(TOKEN in h for h in seen), "the client never sent the token: the test proves nothing"
    assert received, "no alert was sent"
    assert "403" in alert["error"] and "Forbidden: token ***" in alert["error"], alert["error"]
    context = [places[w][max(0, places[w].find(TOKEN) - 300) : places[w].find(TOKEN) + 60] for w in leaks]
    assert not leaks, f"the echoed token leaked into: {leaks}: {context}"


def test_log_records_and_tracebacks_are_redacted(monkeypatch: pytest.MonkeyPatch) -> None:
    conn = {"conn_type": "http", "password": CONN_PASSWORD, "extra": {"keyfile_dict": {"private_key": EXTRA_KEY}}}
    monkeypatch.setenv("AIRFLOW_CONN_MADLAKE_PLANTED", json.dumps(conn))
    monkeypatch.setenv("MADLAKE_SERVICE_TOKEN", f"svc-{STAMP}")
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(levelname)s %(message)s"))
    log = logging.getLogger(f"madlake.test.redaction.{STAMP}")
    log.addHandler(handler)
    log.propagate = False
    try:
        log.warning("GET https://h.example/api?access_token=%s&q=1 -> 401 %s", f"qs-{STAMP}", CONN_PASSWORD)
        log.info("connecting to postgresql://airflow:%s@db:5432/airflow", f"dbpw-{STAMP}")
        log.info("header Authorization: Bearer %s", f"bearer-{STAMP}-xyz")
        try:
            raise RuntimeError(f"401 body: {{'key': '{EXTRA_KEY}', 'token': 'svc-{STAMP}'}}")
        except RuntimeError:
            log.exception("call failed")
    finally:
        log.removeHandler(handler)
    text = stream.getvalue()
    planted = [f"qs-{STAMP}", CONN_PASSWORD, f"dbpw-{STAMP}", f"bearer-{STAMP}-xyz", EXTRA_KEY, f"svc-{STAMP}"]
    assert "Traceback" in text and "call failed" in text and "401" in text
    assert [p for p in planted if p in text] == [], text


def test_dead_letters_and_alert_payloads_are_redacted(lakehouse: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from madlake.lakehouse.deadletter import Rejection, write_dead_letters
    from madlake.lakehouse.tables import ensure_tables
    from madlake.lakehouse.writes import CommitContext
    from madlake.orchestration.defaults import notify_failure
    from madlake.sql.engine import get_engine

    monkeypatch.setenv("GITHUB_TOKEN", TOKEN)
    ensure_tables()
    write_dead_letters(
        "github",
        "repo_snapshot",
        date(2026, 8, 22),
        [Rejection(f"GitHub answered HTTP 403: token {TOKEN}", {"message": f"bad {TOKEN}"}, "o/r")],
        CommitContext("t", "r", "t"),
    )
    rows = get_engine().query("select reason, raw_payload from rejected_records").to_pylist()
    assert rows and all(TOKEN not in r["reason"] + r["raw_payload"] for r in rows), rows
    assert "token ***" in rows[0]["reason"]

    class TI:
        dag_id, task_id, run_id, try_number = "d", "t", "r", 1

    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    logging.getLogger("madlake.orchestration.defaults").addHandler(handler)
    try:
        notify_failure({"task_instance": TI(), "exception": RuntimeError(f"GET /x?token={TOKEN} failed")})
    finally:
        logging.getLogger("madlake.orchestration.defaults").removeHandler(handler)
    assert TOKEN not in stream.getvalue() and "madlake task failed" in stream.getvalue()
