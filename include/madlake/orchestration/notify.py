"""Airflow's notifier, connections and variables for the watchlists: their one way into Airflow.

``madlake.watchlists`` decides what to send and records it; this module only builds Airflow's
:class:`~airflow.providers.http.notifications.http.HttpNotifier` (secrets stay in the connection), tells which parts of
a connection must never be logged, and reads the ``madlake_watchlists`` Variable. Airflow is imported on use, so
``import madlake.watchlists`` (and ``madlake watchlists`` on the command line) stays light.
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from madlake.redaction import register_secret


def post_json(
    conn_id: str, endpoint: str | None, payload: Mapping[str, Any], *, timeout: float, context: Mapping[str, Any]
) -> None:
    """POST ``payload`` as JSON to the HTTP connection ``conn_id`` through Airflow's ``HttpNotifier``.

    Raises:
        Exception: what the hook raises (``AirflowException`` for HTTP >= 400, connection errors, timeouts).
    """
    from airflow.providers.http.notifications.http import HttpNotifier

    notifier = HttpNotifier(
        http_conn_id=conn_id,
        endpoint=endpoint,
        json=dict(payload),
        headers={"Content-Type": "application/json"},
        extra_options={"timeout": timeout},
    )
    notifier.notify(dict(context))  # type: ignore[arg-type]


def connection_secret_parts(conn_id: str) -> list[str] | None:
    """The URL parts of connection ``conn_id`` that must never be logged (registered for redaction), or None when
    the connection does not exist."""
    from airflow.sdk import Connection

    try:
        conn = Connection.get(conn_id)
    except Exception:  # AirflowNotFoundException / no backend: not configured
        return None
    parts = [p for p in (conn.host, conn.password, conn.login) if p]
    with contextlib.suppress(Exception):
        parts.append(conn.get_uri())
    if conn.host and "://" in conn.host:
        # A webhook's token usually is its path (Slack: /services/T.../B.../<secret>); HTTP client libraries log the
        # path alone (urllib3 at debug), so the path and each long segment of it are secrets too.
        split = urlsplit(conn.host)
        parts += [p for p in (split.path, split.query) if p and p != "/"]
        parts += [seg for seg in split.path.split("/") if len(seg) >= 8]
    for p in parts:
        if len(p) >= 8 or "/" in p:
            register_secret(p)
    return parts


def get_variable(key: str) -> str | None:
    """The Airflow Variable ``key`` (None when unset or no Variable backend is reachable, e.g. outside a task)."""
    try:
        from airflow.sdk import Variable

        value = Variable.get(key, default=None)
    except Exception:
        return None
    return str(value) if value else None
