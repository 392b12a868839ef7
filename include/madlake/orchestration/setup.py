"""``madlake airflow setup``: make a fresh Airflow ready for madlake's DAGs (pools, connections, variables).

Run by ``make airflow`` before ``airflow standalone`` and by the compose stack's ``airflow-init``; the Astro CLI reads
the same ``airflow_settings.yaml`` itself (``astro dev start``). Idempotent: safe to run at every start.

* **Pools**: exactly the names of :class:`madlake.names.Pool` (tasks naming a pool that does not exist wait in
  "scheduled" forever). Slots and descriptions come from ``airflow_settings.yaml``; a pool of ``names.Pool`` missing
  there gets 1 slot; a pool listed there that ``names.Pool`` does not know is an error (a typo would never be used).
* **Connections**: each connection of ``airflow_settings.yaml`` is created unless it is already defined (an
  ``AIRFLOW_CONN_<ID>`` environment variable or the metadata database: an operator's value always wins) and unless it
  is a *placeholder* (a ``your-...`` value, or a secret-bearing connection without its secret): creating
  ``madlake_llm`` without a key would switch mention enrichment from the lexicon to an LLM that cannot answer.
* **Variables**: created when missing; an existing value is kept.
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from madlake.names import Pool
from madlake.orchestration.runner import prepare_environment

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

log = logging.getLogger(__name__)

#: The repository's airflow_settings.yaml (the Astro project file).
SETTINGS_FILE = Path(__file__).resolve().parents[3] / "airflow_settings.yaml"

#: Connections that are useless without their secret (password or key): a placeholder is not created.
NEEDS_SECRET = ("madlake_bigquery", "reddit_default", "madlake_llm")


@dataclass
class SetupReport:
    pools: dict[str, int] = field(default_factory=dict)
    connections_created: list[str] = field(default_factory=list)
    connections_kept: list[str] = field(default_factory=list)
    connections_skipped: dict[str, str] = field(default_factory=dict)
    variables_created: list[str] = field(default_factory=list)
    variables_kept: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        out = [f"pools: {', '.join(f'{k}={v}' for k, v in sorted(self.pools.items()))}"]
        if self.connections_created:
            out.append(f"connections created: {', '.join(self.connections_created)}")
        if self.connections_kept:
            out.append(f"connections already defined (kept): {', '.join(self.connections_kept)}")
        for conn_id, why in self.connections_skipped.items():
            out.append(f"connection {conn_id} not created: {why}")
        if self.variables_created or self.variables_kept:
            out.append(
                f"variables created: {', '.join(self.variables_created) or '-'}; kept: "
                f"{', '.join(self.variables_kept) or '-'}"
            )
        return out


def read_settings(path: Path | None = None) -> dict[str, Any]:
    """The ``airflow:`` section of ``airflow_settings.yaml`` (pools, connections, variables)."""
    path = path or SETTINGS_FILE
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    section = data.get("airflow") or {}
    if not isinstance(section, dict):
        raise ValueError(f"{path}: 'airflow' must be a mapping")
    return section


def pool_specs(settings: dict[str, Any]) -> dict[str, tuple[int, str]]:
    """``{pool: (slots, description)}`` for every :class:`~madlake.names.Pool` (see the module docstring)."""
    names = {v for k, v in vars(Pool).items() if not k.startswith("_") and isinstance(v, str)}
    listed = {str(p["pool_name"]): p for p in settings.get("pools") or []}
    unknown = sorted(set(listed) - names)
    if unknown:
        raise ValueError(f"airflow_settings.yaml lists pools madlake.names.Pool does not know: {unknown}")
    specs = {}
    for name in sorted(names):
        entry = listed.get(name, {})
        specs[name] = (int(entry.get("pool_slot") or 1), str(entry.get("pool_description") or name))
    return specs


def _placeholder_reason(conn: dict[str, Any]) -> str | None:
    values = [conn.get(k) for k in ("conn_host", "conn_login", "conn_schema")]
    extra = conn.get("conn_extra") or {}
    values += list(extra.values()) if isinstance(extra, dict) else []
    if any(isinstance(v, str) and v.startswith("your-") for v in values):
        return "placeholder values (your-...)"
    if conn["conn_id"] in NEEDS_SECRET and not (conn.get("conn_password") or extra.get("keyfile_dict")):
        return "no secret in airflow_settings.yaml"
    return None


def _connection_defined(conn_id: str, session: Session) -> bool:
    from airflow.models.connection import Connection

    if os.environ.get(f"AIRFLOW_CONN_{conn_id.upper()}"):
        return True
    return session.query(Connection).filter(Connection.conn_id == conn_id).first() is not None


def setup_airflow(path: Path | None = None, *, migrate: bool = True) -> SetupReport:
    """Migrate the metadata database (optional) and create pools, connections and variables. Idempotent."""
    prepare_environment()
    settings = read_settings(path)
    specs = pool_specs(settings)
    if migrate:
        from airflow.utils import db

        db.initdb()
    from airflow.models.connection import Connection
    from airflow.models.pool import Pool as AirflowPool
    from airflow.models.variable import Variable
    from airflow.utils.session import create_session

    report = SetupReport()
    with create_session() as session:
        for name, (slots, description) in specs.items():
            AirflowPool.create_or_update_pool(name, slots, description, include_deferred=False, session=session)
            report.pools[name] = slots
        for conn in settings.get("connections") or []:
            conn_id = str(conn["conn_id"])
            if _connection_defined(conn_id, session):
                report.connections_kept.append(conn_id)
                continue
            why = _placeholder_reason(conn)
            if why:
                report.connections_skipped[conn_id] = f"{why}; set AIRFLOW_CONN_{conn_id.upper()} (see .env.example)"
                continue
            extra = {k: v for k, v in (conn.get("conn_extra") or {}).items() if v not in (None, "")}
            session.add(
                Connection(
                    conn_id=conn_id,
                    conn_type=conn.get("conn_type"),
                    host=conn.get("conn_host"),
                    schema=conn.get("conn_schema"),
                    login=conn.get("conn_login"),
                    password=conn.get("conn_password"),
                    port=conn.get("conn_port"),
                    extra=json.dumps(extra) if extra else None,
                )
            )
            report.connections_created.append(conn_id)
    for var in settings.get("variables") or []:
        key = str(var["variable_name"])
        if Variable.get(key, default_var=None) is not None:
            report.variables_kept.append(key)
            continue
        Variable.set(key, "" if var.get("variable_value") is None else str(var["variable_value"]))
        report.variables_created.append(key)
    for line in report.lines():
        log.info("airflow setup: %s", line)
    return report
