"""Read an Airflow connection (inside a task, or from ``AIRFLOW_CONN_*`` outside one). Never logs its secrets."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from madlake.redaction import register_secret


@dataclass(frozen=True)
class ConnectionInfo:
    conn_id: str
    host: str | None = None
    login: str | None = None
    password: str | None = field(default=None, repr=False)
    port: int | None = None
    schema: str | None = None
    extra: dict[str, Any] = field(default_factory=dict, repr=False)


def get_connection(conn_id: str, *, required: bool = True) -> ConnectionInfo | None:
    """The connection ``conn_id`` through Airflow's secrets backends.

    Raises:
        LookupError: it is not defined and ``required`` (the message names the id and how to define it).
    """
    from airflow.sdk import BaseHook  # noqa: PLC0415 - optional: outside a task the environment answers

    try:
        conn = BaseHook.get_connection(conn_id)
    except Exception as exc:
        if not required:
            return None
        raise LookupError(
            f"Airflow connection {conn_id!r} is not defined (define it in the UI or as AIRFLOW_CONN_{conn_id.upper()})"
        ) from exc
    extra = conn.extra_dejson if conn.extra else {}
    if isinstance(extra, str):
        extra = json.loads(extra)

    register_secret({"password": conn.password, "extra": extra})
    return ConnectionInfo(
        conn_id=conn_id,
        host=conn.host,
        login=conn.login,
        password=conn.password,
        port=conn.port,
        schema=conn.schema,
        extra=dict(extra or {}),
    )
