"""Task bodies of the ``dashboard_publish`` DAG: plain arguments in, small JSON-able summaries out (for XCom)."""

from __future__ import annotations

import json
import logging
import tempfile
from datetime import date
from pathlib import Path
from typing import Any

from madlake.dashboard.publish import check_target, dashboard_uri, publish_site
from madlake.dashboard.site import build_site
from madlake.lakehouse.writes import CommitContext
from madlake.ops.freshness import refresh_source_freshness

log = logging.getLogger(__name__)


def refresh_freshness(day: date, ctx: CommitContext | None = None) -> dict[str, int]:
    """Measure every table's freshness from Iceberg metadata and replace ``source_freshness`` rows of ``day``."""
    return refresh_source_freshness(day, ctx=ctx)


def build_and_publish(day: date, target: str | None = None) -> dict[str, Any]:
    """Build the site from the gold tables in a temporary folder, then publish it (see ``madlake.dashboard.publish``).

    The site shows the newest data in the gold tables (``day`` only labels the run). Raises
    :class:`madlake.dashboard.site.NoGoldDataError` when there is no gold data (nothing is published, the previous
    site stays); query errors propagate and the task is retried. Raises
    :class:`madlake.dashboard.publish.UnsafeTargetError` before building anything when ``target`` is a place the
    publisher may not write (e.g. ``MADLAKE_HOME``, or a folder that is not a previous build).
    """
    target = check_target(target or dashboard_uri())
    with tempfile.TemporaryDirectory(prefix="madlake-dashboard-") as tmp:
        summary = build_site(Path(tmp) / "site")
        published = publish_site(summary.out_dir, target)
    slowest = max(summary.query_ms.items(), key=lambda kv: kv[1], default=("", 0.0))
    log.info(
        "Dashboard for run day %s: data date %s, %d pages at %s (slowest query %s p95 %.0f ms)",
        day,
        summary.data_date,
        len(summary.pages),
        published.index,
        slowest[0],
        slowest[1],
    )
    return {
        "index": published.index,
        "data_date": summary.data_date.isoformat(),
        "is_sample": summary.is_sample,
        "pages": len(summary.pages),
        "files": published.files,
        "bytes": published.bytes,
        "answers": {a["key"]: a["answer"] for a in summary.answers},
    }


def demo_report() -> list[str]:
    """Lines for ``madlake demo``: where the dashboard is and which months it covers (the answers themselves are
    printed once, by :func:`madlake.metrics.ask.demo_report`, from the same SQL the dashboard's cards run)."""
    target = dashboard_uri()
    if target.startswith("s3://"):
        return [f"Dashboard:      {target}/index.html"]
    manifest_path = Path(target) / "site.json"
    if not manifest_path.is_file():
        return [f"Dashboard:      not built yet (run: madlake run dashboard_publish; expected in {target})"]
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    index = (Path(target) / "index.html").resolve()
    sample = " (SAMPLE DATA)" if manifest.get("is_sample") else ""
    return [
        f"Dashboard:      {index}  ({manifest.get('first_month', '?')[:7]} → {manifest['data_date'][:7]}{sample})",
        f"                open {index.as_uri()} in a browser (works offline)",
    ]
