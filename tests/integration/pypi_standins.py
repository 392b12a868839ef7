"""Local stand-ins for the two live PyPI sources, on 127.0.0.1, speaking their real protocols.

* :class:`BigQueryStandIn`: the BigQuery REST API subset google-cloud-bigquery uses for a query job (``jobs.insert``
  with and without ``dryRun``, ``jobs.get``, ``jobs.getQueryResults``) plus an OAuth token endpoint for service-account
  credentials. It *executes* the submitted GoogleSQL: transpiled by sqlglot to DuckDB and run with the bound query
  parameters over a DuckDB table with the real nested ``file_downloads`` schema. Every request is recorded.
* :class:`ClickHouseStandIn`: ClickHouse's HTTP interface: the SQL in the POST body, ``param_<name>`` query
  parameters substituted server-side for ``{name:Type}``, ``JSONEachRow`` output with 64-bit integers quoted (the
  ClickHouse default); an unset parameter is a ClickHouse-style HTTP 404 error.
"""

from __future__ import annotations

import json
import re
import threading
import uuid
from datetime import date, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlparse

import duckdb
import sqlglot
from sqlglot import exp


class _StandIn:
    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self.lock = threading.Lock()
        self.con = duckdb.connect()
        self.con.execute("set TimeZone = 'UTC'")
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def _serve(self, method: str) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                url = urlparse(self.path)
                record = {
                    "method": method,
                    "path": url.path,
                    "query": parse_qs(url.query),
                    "body": body,
                    "headers": {k.lower(): v for k, v in self.headers.items()},
                }
                with outer.lock:
                    outer.requests.append(record)
                    status, payload, ctype = outer.handle(record)
                data = payload if isinstance(payload, bytes) else json.dumps(payload, default=str).encode()
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:
                self._serve("GET")

            def do_POST(self) -> None:
                self._serve("POST")

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def handle(self, record: dict[str, Any]) -> tuple[int, Any, str]:
        raise NotImplementedError

    def __enter__(self) -> _StandIn:
        self.thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.con.close()


# --------------------------------------------------------------------------------------------------------------------
# BigQuery
# --------------------------------------------------------------------------------------------------------------------

_BQ_TYPES = {"DATE": "DATE", "STRING": "STRING", "BOOL": "BOOLEAN", "BOOLEAN": "BOOLEAN", "INT64": "INTEGER"}


class BigQueryStandIn(_StandIn):
    """See the module docstring. ``bytes_processed`` is what dry runs report (and what a job would bill)."""

    def __init__(self, ddl: str, bytes_processed: int = 5 * 1024**3) -> None:
        super().__init__()
        self.con.execute(ddl)
        self.bytes_processed = bytes_processed
        self.jobs: dict[str, dict[str, Any]] = {}

    def load(self, events: list[dict]) -> None:
        import pyarrow as pa

        schema = self.con.sql("select * from file_downloads limit 0").to_arrow_table().schema
        self.con.register("incoming", pa.Table.from_pylist(events, schema=schema))
        self.con.execute("insert into file_downloads select * from incoming")
        self.con.unregister("incoming")

    def jobs_inserted(self) -> list[dict[str, Any]]:
        return [json.loads(r["body"]) for r in self.requests if r["method"] == "POST" and r["path"].endswith("/jobs")]

    @staticmethod
    def _param_value(param: dict[str, Any]) -> Any:
        ptype = param["parameterType"]
        if ptype["type"] == "ARRAY":
            return [v["value"] for v in param["parameterValue"].get("arrayValues", [])]
        value = param["parameterValue"]["value"]
        return date.fromisoformat(value) if ptype["type"] == "DATE" else value

    def _run(self, sql: str, params: list[dict[str, Any]]) -> tuple[list[dict], list[tuple]]:
        tree = sqlglot.parse_one(sql, read="bigquery")

        def local(node: exp.Expression) -> exp.Expression:
            if isinstance(node, exp.Table) and node.name == "file_downloads":
                return exp.to_table("file_downloads")
            return node

        duck_sql = tree.transform(local).sql(dialect="duckdb")
        values = {p["name"]: self._param_value(p) for p in params}
        cursor = self.con.execute(duck_sql, values)
        names = [d[0] for d in cursor.description]
        rows = cursor.fetchall()
        types = {"download_date": "DATE", "ci": "BOOLEAN", "downloads": "INTEGER"}
        fields = [{"name": n, "type": types.get(n, "STRING"), "mode": "NULLABLE"} for n in names]
        return fields, rows

    def handle(self, record: dict[str, Any]) -> tuple[int, Any, str]:
        path = record["path"]
        if path == "/token":
            return (
                200,
                {"access_token": "stand-in-token", "expires_in": 3600, "token_type": "Bearer"},
                "application/json",
            )
        m = re.fullmatch(r"/bigquery/v2/projects/([^/]+)/jobs", path)
        if m and record["method"] == "POST":
            job = json.loads(record["body"])
            project = m.group(1)
            config = job["configuration"]
            ref = {
                "projectId": project,
                "jobId": job.get("jobReference", {}).get("jobId") or uuid.uuid4().hex,
                "location": job.get("jobReference", {}).get("location", "US"),
            }
            stats = {
                "totalBytesProcessed": str(self.bytes_processed),
                "query": {"totalBytesProcessed": str(self.bytes_processed)},
            }
            if config.get("dryRun"):
                return (
                    200,
                    {"jobReference": ref, "configuration": config, "status": {"state": "DONE"}, "statistics": stats},
                    "application/json",
                )
            cap = config["query"].get("maximumBytesBilled")
            if cap is not None and int(cap) < self.bytes_processed:
                error = {
                    "code": 400,
                    "status": "INVALID_ARGUMENT",
                    "message": f"Query exceeded limit for bytes billed: {cap}. {self.bytes_processed} or higher",
                    "errors": [{"reason": "bytesBilledLimitExceeded", "message": "bytes billed limit"}],
                }
                return 400, {"error": error}, "application/json"
            fields, rows = self._run(config["query"]["query"], config["query"].get("queryParameters", []))
            stats["query"]["totalBytesBilled"] = str(self.bytes_processed)
            self.jobs[ref["jobId"]] = {"ref": ref, "config": config, "fields": fields, "rows": rows, "stats": stats}
            return 200, self._job_resource(ref["jobId"]), "application/json"
        m = re.fullmatch(r"/bigquery/v2/projects/([^/]+)/jobs/([^/]+)", path)
        if m:
            return 200, self._job_resource(m.group(2)), "application/json"
        m = re.fullmatch(r"/bigquery/v2/projects/([^/]+)/queries/([^/]+)", path)
        if m:
            job = self.jobs[m.group(2)]
            q = record["query"]
            start = int(q.get("pageToken", q.get("startIndex", ["0"]))[0])
            limit = int(q.get("maxResults", [str(len(job["rows"]))])[0])
            page = job["rows"][start : start + limit] if limit else []
            out = {
                "kind": "bigquery#getQueryResultsResponse",
                "jobReference": job["ref"],
                "jobComplete": True,
                "totalRows": str(len(job["rows"])),
                "schema": {"fields": job["fields"]},
                "totalBytesProcessed": str(self.bytes_processed),
                "cacheHit": False,
            }
            if page:  # like BigQuery, no "rows" key on an empty page (e.g. the maxResults=0 wait call)
                out["rows"] = [{"f": [{"v": _bq_cell(v)} for v in row]} for row in page]
            if start + len(page) < len(job["rows"]) and limit:
                out["pageToken"] = str(start + len(page))
            return 200, out, "application/json"
        return 404, {"error": {"code": 404, "message": f"stand-in: no route {path}"}}, "application/json"

    def _job_resource(self, job_id: str) -> dict[str, Any]:
        job = self.jobs[job_id]
        return {
            "jobReference": job["ref"],
            "configuration": job["config"],
            "status": {"state": "DONE"},
            "statistics": job["stats"],
            "id": f"{job['ref']['projectId']}:US.{job_id}",
        }


def _bq_cell(value: Any) -> Any:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, date | datetime):
        return value.isoformat()
    return str(value)


# --------------------------------------------------------------------------------------------------------------------
# ClickHouse
# --------------------------------------------------------------------------------------------------------------------

CLICKPY_TABLE = "pypi.pypi_downloads_per_day_by_version_by_installer_by_type_by_country"
CLICKPY_DDL = """
create table clickpy_downloads (
    project varchar, version varchar, date date, installer varchar, type varchar, country_code varchar, count bigint
)
"""


class ClickHouseStandIn(_StandIn):
    """See the module docstring. Serves ``CLICKPY_TABLE`` from a DuckDB table of the same columns."""

    def __init__(self, user: str = "demo") -> None:
        super().__init__()
        self.user = user
        self.con.execute(CLICKPY_DDL)

    def load(self, rows: list[dict]) -> None:
        import pyarrow as pa

        schema = self.con.sql("select * from clickpy_downloads limit 0").to_arrow_table().schema
        self.con.register("incoming", pa.Table.from_pylist(rows, schema=schema))
        self.con.execute("insert into clickpy_downloads select * from incoming")
        self.con.unregister("incoming")

    def handle(self, record: dict[str, Any]) -> tuple[int, Any, str]:
        q = {k: v[0] for k, v in record["query"].items()}
        if q.get("user") != self.user:
            return 516, f"Code: 516. DB::Exception: {q.get('user')}: Authentication failed".encode(), "text/plain"
        sql = record["body"].decode()
        tree = sqlglot.parse_one(sql, read="clickhouse")
        for placeholder in list(tree.find_all(exp.Placeholder)):
            name = placeholder.name
            if f"param_{name}" not in q:
                return 404, f"Code: 456. DB::Exception: Substitution `{name}` is not set.".encode(), "text/plain"
            kind = placeholder.args.get("kind")
            raw = q[f"param_{name}"]
            if kind is not None and kind.is_type(exp.DataType.Type.ARRAY):
                items = sqlglot.parse_one(raw, read="clickhouse")
                values = [e.this for e in items.expressions]
                parent = placeholder.parent
                if isinstance(parent, exp.In):
                    parent.set("field", None)
                    parent.set("expressions", [exp.Literal.string(v) for v in values])
                    placeholder.pop()
                    continue
                placeholder.replace(exp.Array(expressions=[exp.Literal.string(v) for v in values]))
            else:
                placeholder.replace(exp.cast(exp.Literal.string(raw), kind or "text"))

        def local(node: exp.Expression) -> exp.Expression:
            if isinstance(node, exp.Table) and f"{node.db}.{node.name}" == CLICKPY_TABLE:
                return exp.to_table("clickpy_downloads")
            return node

        cursor = self.con.execute(tree.transform(local).sql(dialect="duckdb"))
        names = [d[0] for d in cursor.description]
        lines = []
        for row in cursor.fetchall():
            obj = {
                n: (str(v) if isinstance(v, int) and not isinstance(v, bool) else v)
                for n, v in zip(names, row, strict=True)
            }
            lines.append(json.dumps(obj, default=str))
        return 200, ("\n".join(lines) + ("\n" if lines else "")).encode(), "application/x-ndjson"
