"""Secrets: credentials planted in every Airflow connection (and the client libraries' env vars) never appear in task
logs, raw landings, tables, dead letters, alerts or exception text, while the clients really use them.

The DAGs run through Airflow with connections pointing at local stand-ins that record the ``Authorization`` header
they receive, so the proof is not vacuous: the GitHub token and the LLM key are *sent* (to 127.0.0.1) and still never
written anywhere. A run that fails on a 401 is included, since error paths are where secrets usually leak.
"""

from __future__ import annotations

import contextlib
import gzip
import json
import os
import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, ClassVar

import pytest
from madlake.names import Dag

from tests.integration._reliability import record
from tests.integration.fake_openai import FakeOpenAI

pytestmark = pytest.mark.integration

STAMP = uuid.uuid4().hex[:12]
SECRETS = {
    "reddit": f"rdt-PLANTED-{STAMP}",
    "github": f"ghp_PLANTED{STAMP}",
    "llm": f"sk-PLANTED-{STAMP}",
    "aws": f"AWS-PLANTED-{STAMP}",
    "clickpy": f"ch-PLANTED-{STAMP}",
    "bigquery": f"gcp-PLANTED-{STAMP}",
}


class RecordingOpenAI(FakeOpenAI):
    """The mentions tests' fake OpenAI server, also recording the Authorization header of every request."""

    seen_auth: list[str]

    def _handler(self) -> Any:
        base = super()._handler()
        fake = self

        class Handler(base):  # type: ignore[misc, valid-type]
            def do_POST(self) -> None:
                fake.seen_auth.append(self.headers.get("Authorization", ""))
                super().do_POST()

        return Handler


def _recording_github_server(root: Path) -> Any:
    from madlake.sources.replay_server import Request, Response

    from tests.replay_faults import FaultyGitHubReplayServer

    class Recording(FaultyGitHubReplayServer):
        seen_auth: ClassVar[list[str]] = []

        def answer(self, request: Request) -> Response:
            self.seen_auth.append(request.headers.get("Authorization", ""))
            return super().answer(request)

    Recording.seen_auth = []
    return Recording(root)


@pytest.fixture
def planted(lakehouse: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Any]]:
    conns = {
        "aws_default": {"conn_type": "aws", "login": "AKIAPLANTED", "password": SECRETS["aws"]},
        "madlake_bigquery": {
            "conn_type": "google_cloud_platform",
            "extra": {"project": "p", "key": SECRETS["bigquery"]},
        },
        "madlake_clickpy": {"conn_type": "http", "host": "127.0.0.1", "login": "play", "password": SECRETS["clickpy"]},
        "reddit_default": {"conn_type": "generic", "login": "cid", "password": SECRETS["reddit"]},
    }
    for conn_id, conn in conns.items():
        monkeypatch.setenv(f"AIRFLOW_CONN_{conn_id.upper()}", json.dumps(conn))
    # The client libraries' own variables too (they are the fallback of every source).
    monkeypatch.setenv("GITHUB_TOKEN", SECRETS["github"])
    monkeypatch.setenv("praw_client_secret", SECRETS["reddit"])
    monkeypatch.setenv("OPENAI_API_KEY", SECRETS["llm"])
    RecordingOpenAI.seen_auth = []
    llm = RecordingOpenAI()
    import threading

    threading.Thread(target=llm.server.serve_forever, daemon=True).start()
    llm_conn = {"conn_type": "generic", "host": llm.url, "password": SECRETS["llm"], "extra": {"model": "fake-model"}}
    monkeypatch.setenv("AIRFLOW_CONN_MADLAKE_LLM", json.dumps(llm_conn))
    try:
        yield {"llm": llm, "home": lakehouse, "monkeypatch": monkeypatch}
    finally:
        llm.server.shutdown()
        llm.server.server_close()


def _texts_under(root: Path) -> Iterator[tuple[str, str]]:
    """Every readable file under ``root`` as text (gzip decompressed); Parquet/Avro are checked through the tables."""
    for path in root.rglob("*"):
        if not path.is_file() or path.suffix in (".parquet", ".avro"):
            continue
        data = path.read_bytes()
        if path.suffix == ".gz":
            with contextlib.suppress(OSError):
                data = gzip.decompress(data)
        yield str(path), data.decode("utf-8", errors="replace")


def _table_texts() -> Iterator[tuple[str, str]]:
    from madlake.config import get_settings
    from madlake.lakehouse.catalog import get_catalog

    catalog = get_catalog()
    ns = get_settings().namespace
    for ident in catalog.list_tables(ns):
        table = catalog.load_table(ident)
        rows = table.scan().to_arrow().to_pylist()
        props = [s.summary.additional_properties for s in table.metadata.snapshots if s.summary]
        yield f"table {ident[-1]}", json.dumps([rows, props, table.properties], default=str)


def test_planted_credentials_never_leak(planted: dict[str, Any], capfd: pytest.CaptureFixture[str]) -> None:
    from madlake.orchestration.runner import DagRunFailedError, run_dag

    monkeypatch: pytest.MonkeyPatch = planted["monkeypatch"]
    home: Path = planted["home"]
    from madlake.config import get_settings

    github_root = get_settings().replay_path("github")
    exceptions: list[str] = []

    run_dag(Dag.TOOLS_CATALOG)
    run_dag(Dag.PYPI_DOWNLOADS, None, conf={"date": "2026-03-01"})
    run_dag(Dag.REDDIT_INGEST, date(2025, 8, 8), conf={"threads": "1mkowrw"})
    run_dag(Dag.REDDIT_LOAD, date(2025, 8, 8))
    run_dag(Dag.REDDIT_MENTIONS, None, conf={"method": "llm", "reprocess_all": True})

    # GitHub in *live* mode: the real client, the token of the connection, an API at the connection's host.
    github = _recording_github_server(github_root)
    with github:
        conn = {"conn_type": "generic", "host": github.url, "password": SECRETS["github"]}
        monkeypatch.setenv("AIRFLOW_CONN_GITHUB_DEFAULT", json.dumps(conn))
        monkeypatch.setenv("MADLAKE_SOURCE_MODE", "live")
        today = datetime.now(UTC).date()  # live snapshots are refused for past days
        run_dag(Dag.GITHUB_METRICS, today)
        # The error path: the API rejects the token.
        github.inject("/", status=401, body={"message": "Bad credentials"}, times=10_000)
        try:
            run_dag(Dag.GITHUB_METRICS, today)
        except DagRunFailedError as exc:
            exceptions.append(f"{exc!r} {exc}")
        monkeypatch.delenv("MADLAKE_SOURCE_MODE")

    captured = capfd.readouterr()
    places: list[tuple[str, str]] = [("task logs (stdout)", captured.out), ("task logs (stderr)", captured.err)]
    places += [(f"exception {i}", text) for i, text in enumerate(exceptions)]
    places += list(_texts_under(home))  # raw landings, catalog, metadata JSON, checkpoints, caches, dashboard
    airflow_logs = Path(os.environ["AIRFLOW_HOME"]) / "logs"
    if airflow_logs.is_dir():
        places += list(_texts_under(airflow_logs))
    places += list(_table_texts())

    leaks = [(where, name) for where, text in places for name, secret in SECRETS.items() if secret in text]
    github_used = sum(1 for h in github.seen_auth if SECRETS["github"] in h)
    llm_used = sum(1 for h in planted["llm"].seen_auth if SECRETS["llm"] in h)
    record(
        "secrets",
        secrets_planted=len(SECRETS),
        places_searched=len(places),
        bytes_searched=sum(len(t) for _, t in places),
        github_requests_with_token=github_used,
        llm_requests_with_key=llm_used,
        failed_runs_checked=len(exceptions),
        leaks=len(leaks),
    )
    assert github_used > 0, "the GitHub client never sent the planted token: the test proves nothing for it"
    assert llm_used > 0, "the LLM client never sent the planted key: the test proves nothing for it"
    assert exceptions, "the 401 run did not fail"
    assert not leaks, f"planted secrets found in: {leaks[:10]}"
