"""A real Airflow for the scheduler tier: scheduler, dag-processor, triggerer, api-server (+ a Celery worker).

Topology: the compose stack's when its services run here (metadata DB on PostgreSQL at 127.0.0.1:5432 in a database
created for this run and dropped after; CeleryExecutor on Redis at 127.0.0.1:6379 with a queue of its own), else
SQLite + LocalExecutor, with the reason printed. Every process is started under its own session (``setsid``) and is
stopped by process group: SIGTERM, then SIGKILL after a grace period; the harness never leaves one running.

Everything is driven through the REST API the UI uses (``/auth/token``, ``/api/v2/...``).
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
PG = ("127.0.0.1", 5432)
REDIS = ("127.0.0.1", 6379)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def port_open(addr: tuple[str, int]) -> bool:
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex(addr) == 0


def choose_topology() -> tuple[str, str]:
    """``("celery", why)`` when PostgreSQL, Redis and the Celery provider are all here, else ``("local", why)``."""
    missing = []
    if not port_open(PG):
        missing.append("no PostgreSQL on 127.0.0.1:5432")
    if not port_open(REDIS):
        missing.append("no Redis on 127.0.0.1:6379")
    for module in ("airflow.providers.celery", "psycopg2", "redis"):
        if importlib.util.find_spec(module) is None:
            missing.append(f"{module} not installed")
    if missing:
        return "local", "SQLite + LocalExecutor: " + "; ".join(missing)
    return "celery", "PostgreSQL 127.0.0.1:5432 + CeleryExecutor on Redis 127.0.0.1:6379 (the compose topology)"


@dataclass
class Stack:
    root: Path
    topology: str = "local"
    reason: str = ""
    port: int = 0
    env: dict[str, str] = field(default_factory=dict)
    procs: dict[str, subprocess.Popen] = field(default_factory=dict)
    database: str | None = None
    token: str | None = None

    # ------------------------------------------------------------------------------------------------ lifecycle
    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def madlake_home(self) -> Path:
        return self.root / "madlake"

    def configure(self) -> None:
        self.topology, self.reason = choose_topology()
        print(f"\n[scheduler tier] {self.reason}", flush=True)
        self.port = free_port()
        home = self.root / "airflow"
        home.mkdir(parents=True, exist_ok=True)
        password = secrets.token_urlsafe(12)
        (home / "passwords.json").write_text(json.dumps({"admin": password}))
        self.password = password
        # A fresh environment, as `make airflow` would have: no test connections (setup imports them from
        # airflow_settings.yaml), only the test session's replay folder (MADLAKE_REPLAY_DIR, see tests/conftest.py).
        env = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "MADLAKE_", "PYTEST", "_AIRFLOW"))}
        if os.environ.get("MADLAKE_REPLAY_DIR"):
            env["MADLAKE_REPLAY_DIR"] = os.environ["MADLAKE_REPLAY_DIR"]
        from cryptography.fernet import Fernet

        env.update(
            {
                "PATH": f"{BIN}:{env.get('PATH', '')}",
                "AIRFLOW_HOME": str(home),
                "AIRFLOW__CORE__DAGS_FOLDER": str(REPO / "dags"),
                "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
                "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "True",
                "AIRFLOW__CORE__PARALLELISM": "4",
                "AIRFLOW__CORE__FERNET_KEY": Fernet.generate_key().decode(),
                "AIRFLOW__CORE__AUTH_MANAGER": (
                    "airflow.api_fastapi.auth.managers.simple.simple_auth_manager.SimpleAuthManager"
                ),
                "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": "admin:admin",
                "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(home / "passwords.json"),
                "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"{self.url}/execution/",
                "AIRFLOW__API__HOST": "127.0.0.1",
                "AIRFLOW__API__PORT": str(self.port),
                "AIRFLOW__API__BASE_URL": self.url,
                "AIRFLOW__API__WORKERS": "1",
                "AIRFLOW__API_AUTH__JWT_SECRET": secrets.token_urlsafe(32),
                "AIRFLOW__API__SECRET_KEY": secrets.token_urlsafe(32),
                "AIRFLOW__SCHEDULER__ENABLE_HEALTH_CHECK": "False",
                "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "5",
                "AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT": str(free_port()),
                "AIRFLOW__LOGGING__TRIGGER_LOG_SERVER_PORT": str(free_port()),
                "AIRFLOW__LOGGING__LOGGING_LEVEL": "INFO",
                "MADLAKE_HOME": str(self.madlake_home),
                "MADLAKE_PROFILE": "local",
                "GX_ANALYTICS_ENABLED": "False",
                "PYTHONUNBUFFERED": "1",
            }
        )
        if self.topology == "celery":
            self.database = f"madlake_sched_{secrets.token_hex(4)}"
            self._psql(f'create database "{self.database}"')
            queue = f"madlake_{secrets.token_hex(4)}"
            env.update(
                {
                    "AIRFLOW__CORE__EXECUTOR": "CeleryExecutor",
                    "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": (
                        f"postgresql+psycopg2://postgres@127.0.0.1:5432/{self.database}"
                    ),
                    "AIRFLOW__CELERY__BROKER_URL": "redis://127.0.0.1:6379/0",
                    "AIRFLOW__CELERY__RESULT_BACKEND": f"db+postgresql+psycopg2://postgres@127.0.0.1:5432/{self.database}",
                    "AIRFLOW__CELERY__WORKER_CONCURRENCY": "2",
                    "AIRFLOW__OPERATORS__DEFAULT_QUEUE": queue,
                }
            )
            self.queue = queue
        else:
            env.update(
                {
                    "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
                    "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home / 'airflow.db'}",
                }
            )
        self.env = env

    def _psql(self, sql: str) -> None:
        import psycopg2

        conn = psycopg2.connect(host=PG[0], port=PG[1], user="postgres", dbname="postgres")
        conn.autocommit = True
        try:
            with conn.cursor() as cur:
                cur.execute(sql)
        finally:
            conn.close()

    def run(self, *args: str, timeout: float = 300) -> subprocess.CompletedProcess:
        """A one-shot command in the stack's environment (e.g. ``madlake airflow setup``); raises on failure."""
        proc = subprocess.run(
            args, check=False, env=self.env, capture_output=True, text=True, timeout=timeout, cwd=self.root
        )
        if proc.returncode != 0:
            raise RuntimeError(
                f"{' '.join(args)} failed ({proc.returncode}):\n{proc.stdout[-3000:]}{proc.stderr[-3000:]}"
            )
        return proc

    def start(self) -> None:
        commands = {
            "api-server": ["airflow", "api-server", "--host", "127.0.0.1", "--port", str(self.port)],
            "scheduler": ["airflow", "scheduler"],
            "dag-processor": ["airflow", "dag-processor"],
            "triggerer": ["airflow", "triggerer"],
        }
        if self.topology == "celery":
            commands["celery-worker"] = [
                "airflow", "celery", "worker", "--queues", self.queue, "--concurrency", "2",
                "--celery-hostname", f"{self.queue}@%h", "--without-gossip", "--without-mingle",
            ]  # fmt: skip
        logs = self.root / "logs"
        logs.mkdir(exist_ok=True)
        for name, cmd in commands.items():
            out = (logs / f"{name}.log").open("wb")
            self.procs[name] = subprocess.Popen(
                cmd, env=self.env, stdout=out, stderr=subprocess.STDOUT, cwd=self.root, start_new_session=True
            )

    def stop(self) -> None:
        """SIGTERM every process group we started, SIGKILL what is left after 20 s, then drop our database."""
        groups = []
        for proc in self.procs.values():
            with contextlib.suppress(ProcessLookupError, PermissionError):
                pgid = os.getpgid(proc.pid)
                os.killpg(pgid, signal.SIGTERM)
                groups.append(pgid)
        deadline = time.monotonic() + 20
        for proc in self.procs.values():
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=max(0.1, deadline - time.monotonic()))
        for pgid in groups:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(pgid, signal.SIGKILL)
        for proc in self.procs.values():
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=5)
        if self.database:
            with contextlib.suppress(Exception):
                self._psql(f'drop database if exists "{self.database}" with (force)')

    def alive(self) -> list[str]:
        """Process groups still present (must be empty after :meth:`stop`)."""
        left = []
        for name, proc in self.procs.items():
            try:
                os.killpg(proc.pid, 0)
                left.append(name)
            except ProcessLookupError:
                continue
            except PermissionError:
                left.append(name)
        return left

    def log_tail(self, name: str, n: int = 60) -> str:
        path = self.root / "logs" / f"{name}.log"
        return "\n".join(path.read_text(errors="replace").splitlines()[-n:]) if path.exists() else ""

    # ------------------------------------------------------------------------------------------------ REST
    def request(self, method: str, path: str, body: Any = None, *, ok: tuple[int, ...] = (200, 201)) -> Any:
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(f"{self.url}{path}", data=data, method=method)
        req.add_header("Content-Type", "application/json")
        if self.token:
            req.add_header("Authorization", f"Bearer {self.token}")
        try:
            with urllib.request.urlopen(req, timeout=30) as resp:
                status, text = resp.status, resp.read().decode()
        except urllib.error.HTTPError as err:
            status, text = err.code, err.read().decode()
        if status not in ok:
            raise AssertionError(f"{method} {path} -> HTTP {status}: {text[:2000]}")
        return json.loads(text) if text else None

    def wait_healthy(self, timeout: float = 180) -> None:
        deadline = time.monotonic() + timeout
        last = ""
        while time.monotonic() < deadline:
            for name, proc in self.procs.items():
                if proc.poll() is not None:
                    raise RuntimeError(f"{name} exited ({proc.returncode}):\n{self.log_tail(name)}")
            try:
                health = self.request("GET", "/api/v2/monitor/health")
                statuses = {k: (v or {}).get("status") for k, v in health.items()}
                last = str(statuses)
                if statuses.get("metadatabase") == "healthy" and statuses.get("scheduler") == "healthy":
                    break
            except (OSError, AssertionError) as exc:
                last = str(exc)
            time.sleep(1)
        else:
            raise TimeoutError(f"Airflow not healthy after {timeout}s: {last}\n{self.log_tail('api-server')}")
        token = self.request("POST", "/auth/token", {"username": "admin", "password": self.password})
        self.token = token["access_token"]

    def wait_dags(self, dag_ids: set[str], timeout: float = 180) -> None:
        deadline = time.monotonic() + timeout
        seen: set[str] = set()
        while time.monotonic() < deadline:
            dags = self.request("GET", "/api/v2/dags?limit=100")["dags"]
            seen = {d["dag_id"] for d in dags}
            if dag_ids <= seen:
                return
            time.sleep(2)
        errors = self.request("GET", "/api/v2/importErrors")
        raise TimeoutError(f"DAGs not parsed after {timeout}s: missing {sorted(dag_ids - seen)}; errors {errors}")

    def unpause(self, dag_id: str) -> None:
        self.request("PATCH", f"/api/v2/dags/{dag_id}", {"is_paused": False})

    def trigger(self, dag_id: str, conf: dict[str, Any] | None = None) -> str:
        run = self.request("POST", f"/api/v2/dags/{dag_id}/dagRuns", {"logical_date": None, "conf": conf or {}})
        return str(run["dag_run_id"])

    def runs(self, dag_id: str) -> list[dict[str, Any]]:
        return list(self.request("GET", f"/api/v2/dags/{dag_id}/dagRuns?limit=100")["dag_runs"])

    def wait_run(self, dag_id: str, run_id: str, timeout: float = 240) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            run = self.request("GET", f"/api/v2/dags/{dag_id}/dagRuns/{run_id}")
            if run["state"] in ("success", "failed"):
                return dict(run)
            time.sleep(2)
        raise TimeoutError(f"{dag_id} {run_id} not finished after {timeout}s:\n{self.log_tail('scheduler')}")

    def task_instances(self, dag_id: str, run_id: str) -> list[dict[str, Any]]:
        return list(self.request("GET", f"/api/v2/dags/{dag_id}/dagRuns/{run_id}/taskInstances")["task_instances"])

    def xcom(self, dag_id: str, run_id: str, task_id: str) -> Any:
        entry = self.request(
            "GET", f"/api/v2/dags/{dag_id}/dagRuns/{run_id}/taskInstances/{task_id}/xcomEntries/return_value"
        )
        value = entry.get("value")
        return json.loads(value) if isinstance(value, str) and value[:1] in "[{" else value

    def wait_quiet(self, dag_ids: list[str], timeout: float = 300, settle: float = 8) -> None:
        """Until no run of ``dag_ids`` is queued or running and no asset event waits for them, for ``settle`` s."""
        deadline = time.monotonic() + timeout
        quiet_since: float | None = None
        while time.monotonic() < deadline:
            busy = []
            for dag_id in dag_ids:
                busy += [f"{dag_id}:{r['state']}" for r in self.runs(dag_id) if r["state"] in ("queued", "running")]
                queued = self.request("GET", f"/api/v2/dags/{dag_id}/assets/queuedEvents", ok=(200, 404))
                if queued and queued.get("queued_events"):
                    busy.append(f"{dag_id}:asset-queue")
            if busy:
                quiet_since = None
            else:
                quiet_since = quiet_since or time.monotonic()
                if time.monotonic() - quiet_since >= settle:
                    return
            time.sleep(2)
        raise TimeoutError(f"still busy after {timeout}s: {busy}")
