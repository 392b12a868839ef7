"""The ``github_metrics`` pipeline: a daily snapshot of every tracked repository, write-audit-published.

Contract of :func:`snapshot_repos`: fetches every tracked repository *now* (the API has no history) and
write-audit-publishes the rows as ``snapshot_date = day``: rerunning a day replaces that day's rows, never appends.
Renamed repositories are followed (301) and stored once under their current name with ``renamed_from``. A
repository GitHub does not know, or an answer that fails validation, goes to ``rejected_records`` (source
``github``, entity ``repo_snapshot``) and the rest of the day is still loaded. The answers as received are landed
in ``<raw_uri>/github/<day>/repo_snapshots.json`` (replaced by a rerun). A failed audit raises
``AuditFailedError`` and main is untouched. Quota waits happen in the client; a wait longer than allowed raises
``QuotaExhaustedError`` (the task fails and Airflow retries it later, with unchanged repositories then costing
nothing thanks to the ETag cache).

The client (replay or live) comes from :func:`madlake.pipelines.github_session.open_session`.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError
from pyiceberg.expressions import And, EqualTo, GreaterThanOrEqual, LessThan

from madlake.config import get_settings
from madlake.lakehouse.deadletter import Rejection, write_dead_letters
from madlake.lakehouse.tables import load_table
from madlake.lakehouse.writes import AuditReport, ExpectationResult, rows_to_arrow, write_audit_publish
from madlake.names import Table
from madlake.orchestration.request import RunRequest
from madlake.pipelines.github_session import SOURCE, Session, open_session, tracked_repos
from madlake.quality.log import audit_recorder
from madlake.sources.github.models import GqlRepoMetrics, RestRepo
from madlake.sources.github.state import JsonStore

if TYPE_CHECKING:
    from collections.abc import Callable

    import pyarrow as pa
    from pyiceberg.table import Table as IcebergTable


log = logging.getLogger(__name__)

SNAPSHOT_ENTITY = "repo_snapshot"
COMMIT_WINDOW_DAYS = 28
#: A repository losing more than this share of its stars from one snapshot to the next fails the audit.
MAX_STAR_DROP = 0.5


def _ts(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def snapshot_rows(
    session: Session, repos: Mapping[str, str], day: date, now: datetime, landing: dict[str, Any] | None = None
) -> tuple[list[dict[str, Any]], list[Any]]:
    """Fetch ``repos`` (``{owner/repo: tool_id}``) and build the day's snapshot rows and rejections.

    ``landing``, when given, receives the answers as received (``rest``: requested name -> status and body;
    ``graphql``: current name -> repository object) for the raw landing.
    """
    client = session.client
    rejections: list[Rejection] = []
    fetched: dict[str, tuple[str, str, RestRepo, bool, str | None]] = {}  # canonical lower -> ...
    for i, (requested, tool_id) in enumerate(sorted(repos.items()), start=1):
        answer = client.repo(requested)
        if landing is not None:
            landing.setdefault("rest", {})[requested] = {
                "status": answer.status,
                "not_modified": answer.not_modified,
                "url": client.relative_url(answer.url),
                "body": answer.body,
            }
        if answer.status not in (200, 304):
            reason = (
                "repository not found (GitHub answered 404)"
                if answer.status == 404
                else (f"GitHub answered HTTP {answer.status}")
            )
            rejections.append(Rejection(reason, answer.body, requested))
            continue
        try:
            repo = RestRepo.model_validate(answer.body)
        except ValidationError as exc:
            rejections.append(Rejection(f"invalid /repos answer: {exc}", answer.body, requested))
            continue
        renamed = requested if repo.full_name.lower() != requested.lower() else None
        key = repo.full_name.lower()
        if key in fetched:
            log.warning(
                "%s and %s are the same repository (%s); keeping one row", fetched[key][0], requested, repo.full_name
            )
            if renamed is not None or fetched[key][4] is None:
                continue  # keep the entry that asked for the current name
        fetched[key] = (requested, tool_id, repo, answer.not_modified, renamed)
        if i % 25 == 0:
            log.info("Fetched %d of %d repositories (%s)", i, len(repos), client.stats.as_dict())

    names = [v[2].full_name for v in fetched.values()]
    metrics_raw = client.repo_metrics(names, now - timedelta(days=COMMIT_WINDOW_DAYS)) if names else {}
    if landing is not None:
        landing["graphql"] = metrics_raw
    rows: list[dict[str, Any]] = []
    origin = "live" if session.mode == "live" else session.labels.get("repos", "replay")
    for requested, tool_id, repo, not_modified, renamed in fetched.values():
        metrics: GqlRepoMetrics | None = None
        raw = metrics_raw.get(repo.full_name)
        if raw is not None:
            try:
                metrics = GqlRepoMetrics.model_validate(raw)
            except ValidationError as exc:
                log.warning("Ignoring invalid GraphQL metrics of %s: %s", repo.full_name, exc)
        contributors = client.contributors_count(repo.full_name)
        release = metrics.latestRelease if metrics else None
        rows.append(
            {
                "snapshot_date": day,
                "repo": repo.full_name,
                "tool_id": tool_id,
                "requested_repo": requested,
                "renamed_from": renamed,
                "repo_id": repo.id,
                "stars": repo.stargazers_count,
                "forks": repo.forks_count,
                "watchers": repo.subscribers_count,
                "open_issues_and_prs": repo.open_issues_count,
                "open_issues": metrics.open_issues if metrics else None,
                "open_pull_requests": metrics.open_pull_requests if metrics else None,
                "latest_release_tag": release.tagName if release else None,
                "latest_release_at": _ts(release.publishedAt) if release else None,
                "pushed_at": _ts(repo.pushed_at),
                "default_branch": repo.default_branch,
                "commits_28d": metrics.commits_28d if metrics else None,
                "contributors": contributors,
                "archived": repo.archived,
                "license": repo.license.spdx_id if repo.license else None,
                "topics": list(repo.topics) if repo.topics is not None else None,
                "not_modified": not_modified,
                "fetched_at": now,
                "origin": origin,
            }
        )
    return rows, rejections


def _previous_stars(table: IcebergTable, snapshot_id: int, day: date) -> dict[str, int]:
    """Stars per repo in the latest snapshot before ``day`` (within 35 days) as of ``snapshot_id``."""
    window = And(
        GreaterThanOrEqual("snapshot_date", (day - timedelta(days=35)).isoformat()),
        LessThan("snapshot_date", day.isoformat()),
    )
    prev = (
        table.scan(row_filter=window, selected_fields=("snapshot_date", "repo", "stars"), snapshot_id=snapshot_id)
        .to_arrow()
        .to_pylist()
    )
    latest: dict[str, tuple[date, int]] = {}
    for r in prev:
        if r["repo"] not in latest or r["snapshot_date"] > latest[r["repo"]][0]:
            latest[r["repo"]] = (r["snapshot_date"], r["stars"])
    return {k: v[1] for k, v in latest.items()}


def audit_snapshot(day: date, expected: int) -> Callable[[pa.Table, IcebergTable, int], AuditReport]:
    """The snapshot audit: rows present, one per repo, the right day, tool ids set, no implausible star drop."""

    def audit(staged: pa.Table, table: IcebergTable, snapshot_id: int) -> AuditReport:
        rows = staged.to_pylist()
        repos = [r["repo"].lower() for r in rows]
        dups = sorted({r for r in repos if repos.count(r) > 1})
        wrong_day = [r["repo"] for r in rows if r["snapshot_date"] != day]
        no_tool = [r["repo"] for r in rows if not r["tool_id"]]
        prev = _previous_stars(table, snapshot_id, day)
        drops = [
            f"{r['repo']}: {prev[r['repo']]} -> {r['stars']}"
            for r in rows
            if prev.get(r["repo"]) and r["stars"] < prev[r["repo"]] * (1 - MAX_STAR_DROP)
        ]
        results = (
            ExpectationResult("rows > 0", len(rows) > 0, f"{len(rows)} rows, {expected} repositories requested"),
            ExpectationResult("one row per repo", not dups, ", ".join(dups[:10]) or "unique"),
            ExpectationResult("snapshot_date is the run day", not wrong_day, ", ".join(wrong_day[:10]) or "ok"),
            ExpectationResult("tool_id not null", not no_tool, ", ".join(no_tool[:10]) or "ok"),
            ExpectationResult(
                f"no repo loses more than {MAX_STAR_DROP:.0%} of its stars", not drops, "; ".join(drops[:10]) or "ok"
            ),
        )
        return AuditReport(results, rows=len(rows))

    return audit


def landing_name(day: date) -> str:
    """The raw landing of a snapshot day, under ``<raw_uri>/github/``."""
    return f"{day.isoformat()}/repo_snapshots.json"


def snapshot_repos(
    day: date,
    request: RunRequest | None = None,
    *,
    repos: Mapping[str, str] | None = None,
    source_mode: str | None = None,
) -> dict[str, Any]:
    """Snapshot every tracked repository as the rows of ``day`` in ``github_repo_snapshots``. Returns a summary.

    ``request``: the run (its DAG and run id tag the commits; ``None``: a standalone run).

    Raises:
        AuditFailedError: the staged day failed its audit (nothing published).
        QuotaExhaustedError / GitHubApiError: the API could not be used; nothing written, retry later.
    """
    ctx = (request or RunRequest.for_cli(day=day)).commit(SOURCE)
    wanted = dict(repos if repos is not None else tracked_repos())
    with open_session(source_mode) as session:
        if session.recorded is not None:
            missing = sorted(r for r in wanted if r.lower() not in session.recorded)
            if missing:
                log.info(
                    "Replay covers %d of %d repositories; %d have no recorded figures (skipped): %s",
                    len(wanted) - len(missing),
                    len(wanted),
                    len(missing),
                    ", ".join(missing[:20]),
                )
            wanted = {r: t for r, t in wanted.items() if r.lower() in session.recorded}
        recorded_on = session.labels.get("recorded_on")
        if recorded_on and recorded_on != day.isoformat():
            log.warning("Replay figures were recorded on %s; they are stored as the snapshot of %s", recorded_on, day)
        now = datetime.now(UTC)
        log.info("Snapshotting %d GitHub repositories for %s (%s mode)", len(wanted), day, session.mode)
        landing: dict[str, Any] = {"day": day.isoformat(), "fetched_at": now.isoformat(), "mode": session.mode}
        rows, rejections = snapshot_rows(session, wanted, day, now, landing)
        stats = session.client.stats.as_dict()
    # Raw landing of the answers (replaced by a rerun of the day), for reprocessing without calling GitHub again.
    raw = JsonStore(f"{get_settings().raw_uri}/github")
    raw.put(landing_name(day), landing)
    table = load_table(Table.GITHUB_REPO_SNAPSHOTS)
    data = rows_to_arrow(table, rows)
    if data.num_rows:
        data = data.sort_by([("repo", "ascending")])
    result = write_audit_publish(
        table,
        data,
        EqualTo("snapshot_date", day.isoformat()),
        day.isoformat(),
        audit_snapshot(day, len(wanted)),
        ctx,
        recorder=audit_recorder(ctx),
        on_published=lambda _published: write_dead_letters(
            SOURCE, SNAPSHOT_ENTITY, day, [r for r in rejections if isinstance(r, Rejection)], ctx
        ),
    )
    summary = {
        "day": day.isoformat(),
        "repos_requested": len(wanted),
        "rows": result.rows,
        "renamed": sum(1 for r in rows if r["renamed_from"]),
        "not_modified": sum(1 for r in rows if r["not_modified"]),
        "rejected": len(rejections),
        "calls": stats,
    }
    log.info(
        "github_repo_snapshots %s: %d rows (%d renamed, %d unchanged/304), %d rejected; API calls: %s",
        day,
        result.rows,
        summary["renamed"],
        summary["not_modified"],
        len(rejections),
        stats,
    )
    return summary
