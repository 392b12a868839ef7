"""Failure alerts: a failing task's on-failure callback logs one summary and POSTs it to the configured webhook.

A real DAG built with madlake's ``default_args()`` runs through Airflow (``dag.test``) with a task that fails; the
webhook is a local HTTP server, configured through the Airflow Variable ``madlake_alert_webhook``.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from tests.integration._reliability import record

pytestmark = pytest.mark.integration


@pytest.fixture
def webhook() -> Iterator[tuple[str, list[dict]]]:
    received: list[dict] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            received.append(json.loads(body))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/alerts", received
    finally:
        server.shutdown()
        server.server_close()


def test_a_failing_task_alerts_the_webhook_once_with_a_clear_summary(
    lakehouse: Path, webhook: tuple[str, list[dict]], monkeypatch: pytest.MonkeyPatch
) -> None:
    from madlake.names import Dag
    from madlake.orchestration.runner import DagRunFailedError, run_dag

    url, received = webhook
    monkeypatch.delenv("MADLAKE_ALERT_WEBHOOK", raising=False)
    monkeypatch.setenv("AIRFLOW_VAR_MADLAKE_ALERT_WEBHOOK", url)
    # A day that has not ended yet: the load is refused (a deterministic failure: no retries), clearly. (A day the
    # replay does not cover is skipped, not failed: see docs/operations.md.)
    day = datetime.now(UTC).date()

    with pytest.raises(DagRunFailedError) as failed:
        run_dag(Dag.PYPI_DOWNLOADS, day)

    assert len(received) == 1, received
    alert = received[0]
    record("failure_alerts", failed_runs=1, alerts_received=len(received), error=alert["error"][:300])
    assert alert["dag_id"] == Dag.PYPI_DOWNLOADS and alert["task_id"] in str(failed.value)
    assert alert["run_id"] and alert["error"], alert
    assert day.isoformat() in alert["error"], f"the alert does not name the day that failed: {alert['error']}"
