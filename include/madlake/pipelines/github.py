"""GitHub pipelines: the daily repository snapshot and the resumable star-history backfill.

Contracts:

* :func:`snapshot_repos` (``github_metrics``): fetches every tracked repository *now* (the API has no history) and
  write-audit-publishes the rows as ``snapshot_date = day``: rerunning a day replaces that day's rows, never appends.
  Renamed repositories are followed (301) and stored once under their current name with ``renamed_from``. A
  repository GitHub does not know, or an answer that fails validation, goes to ``rejected_records`` (source
  ``github``, entity ``repo_snapshot``) and the rest of the day is still loaded. The answers as received are landed
  in ``<raw_uri>/github/<day>/repo_snapshots.json`` (replaced by a rerun). A failed audit raises
  ``AuditFailedError`` and main is untouched. Quota waits happen in the client; a wait longer than allowed raises
  ``QuotaExhaustedError`` (the task fails and Airflow retries it later, with unchanged repositories then costing
  nothing thanks to the ETag cache).
* :func:`backfill_star_history` (``github_star_history``): pages each repository's stargazers newest first and merges
  daily rows on ``(repo, star_date)``; after every page, the completed days are merged *then* the GraphQL cursor is
  checkpointed. A killed or failed run resumes from the last checkpoint; a crash between merge and checkpoint redoes
  one page, whose merge changes nothing. A completed window is skipped on rerun (delete the checkpoint or pass
  ``restart=True`` to redo it).

Source modes: ``replay`` (local profile default) starts :class:`~madlake.sources.github.replay.GitHubReplayServer` on
127.0.0.1 over ``$MADLAKE_REPLAY_DIR/github`` and points the same client at it; ``live`` calls the API root of
connection ``github_default`` (its ``host``, default ``https://api.github.com``) with its password as token (or
``$GITHUB_TOKEN``).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from madlake.names import Table

if TYPE_CHECKING:
    import pyarrow as pa
    from pyiceberg.table import Table as IcebergTable

    from madlake.lakehouse.writes import AuditReport
    from madlake.sources.github.client import GitHubClient

log = logging.getLogger(__name__)

SOURCE = "github"
SNAPSHOT_ENTITY = "repo_snapshot"
STARS_ENTITY = "star_history"
COMMIT_WINDOW_DAYS = 28
#: Days of star history a backfill covers when no ``since`` is given.
DEFAULT_HISTORY_DAYS = 90
#: The star backfill merges and checkpoints after this many pages, or once this many days are complete.
FLUSH_PAGES = 10
FLUSH_DAYS = 31
#: A repository losing more than this share of its stars from one snapshot to the next fails the audit.
MAX_STAR_DROP = 0.5


@dataclass(frozen=True)
class Session:
    """A client plus what the run needs to label its rows."""

    client: GitHubClient
    mode: str
    labels: dict[str, str]
    recorded: frozenset[str] | None = None  # replay: the repositories the recordings cover (lowercase)
    recorded_stars: frozenset[str] | None = None


def _replay_meta(root: Any) -> dict[str, Any]:
    path = root / "_meta.json"
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}


@contextlib.contextmanager
def open_session(source_mode: str | None = None, *, sleep: Any = None) -> Iterator[Session]:
    """A GitHub client for the active source mode (see the module docstring); closes it (and the replay server)."""
    from madlake.config import get_settings
    from madlake.sources.github.client import GitHubClient, resolve_api_url, resolve_token
    from madlake.sources.github.state import EtagCache, JsonStore

    settings = get_settings()
    mode = source_mode or settings.effective_source_mode
    if mode not in ("replay", "live"):
        raise ValueError(f"source mode must be 'replay' or 'live', got {mode!r}")
    cache = EtagCache(JsonStore.default(), name=f"etag_cache_{mode}.json")
    kwargs: dict[str, Any] = {"etag_cache": cache}
    if sleep is not None:
        kwargs["sleep"] = sleep
    if mode == "replay":
        from madlake.sources.github.replay import GitHubReplayServer

        root = settings.replay_path("github")
        meta = _replay_meta(root)
        repos = {
            p.relative_to(root / "repos").with_suffix("").as_posix().lower()
            for p in (root / "repos").glob("*/*.json")
            if not p.name.endswith(".headers.json")
        }
        stars = {
            p.parent.relative_to(root / "graphql" / "Stargazers").as_posix().lower()
            for p in (root / "graphql" / "Stargazers").glob("*/*/first.json")
        }
        with GitHubReplayServer(root) as server:
            client = GitHubClient(server.url, None, **kwargs)
            try:
                labels = {**meta.get("labels", {}), "recorded_on": str(meta.get("recorded_on", ""))}
                yield Session(client, "replay", labels, frozenset(repos), frozenset(stars))
            finally:
                client.close()
                cache.save()
        return
    client = GitHubClient(resolve_api_url(), resolve_token(), **kwargs)
    try:
        yield Session(client, "live", {})
    finally:
        client.close()
        cache.save()


def tracked_repos() -> dict[str, str]:
    """``{owner/repo: tool_id}`` of every repository in the tools catalog."""
    from madlake.catalog import load_catalog

    return load_catalog().github_repos()


# ----------------------------------------------------------------------------------------------------------------
# Daily snapshots
# ----------------------------------------------------------------------------------------------------------------


def _ts(value: Any) -> datetime | None:
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
    from pydantic import ValidationError

    from madlake.lakehouse.deadletter import Rejection
    from madlake.sources.github.models import GqlRepoMetrics, RestRepo

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
    from pyiceberg.expressions import And, GreaterThanOrEqual, LessThan

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


def audit_snapshot(day: date, expected: int) -> Any:
    """The snapshot audit: rows present, one per repo, the right day, tool ids set, no implausible star drop."""
    from madlake.lakehouse.writes import AuditReport, ExpectationResult

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
    day: date, *, repos: Mapping[str, str] | None = None, source_mode: str | None = None
) -> dict[str, Any]:
    """Snapshot every tracked repository as the rows of ``day`` in ``github_repo_snapshots``. Returns a summary.

    Raises:
        AuditFailedError: the staged day failed its audit (nothing published).
        QuotaExhaustedError / GitHubApiError: the API could not be used; nothing written, retry later.
    """
    from pyiceberg.expressions import EqualTo

    from madlake.config import get_settings
    from madlake.lakehouse.deadletter import Rejection, write_dead_letters
    from madlake.lakehouse.tables import load_table
    from madlake.lakehouse.writes import CommitContext, rows_to_arrow, write_audit_publish
    from madlake.quality.log import audit_recorder
    from madlake.sources.github.state import JsonStore

    ctx = CommitContext.current(source=SOURCE)
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


# ----------------------------------------------------------------------------------------------------------------
# Star history backfill
# ----------------------------------------------------------------------------------------------------------------


def checkpoint_name(requested: str, since: date, until: date) -> str:
    owner, name = requested.lower().split("/", 1)
    return f"star_history/{owner}__{name}__{since.isoformat()}__{until.isoformat()}.json"


def _merge_star_rows(
    table: IcebergTable, rows: Sequence[dict[str, Any]], tool_id: str | None, origin: str, ctx: Any
) -> int:
    from madlake.lakehouse.writes import merge, rows_to_arrow

    if not rows:
        return 0
    now = datetime.now(UTC)
    data = rows_to_arrow(table, [{**r, "tool_id": tool_id, "loaded_at": now, "origin": origin} for r in rows])
    merge(table, data, ("repo", "star_date"), ctx, preserve=("loaded_at",))
    return len(rows)


def backfill_repo(
    session: Session,
    requested: str,
    since: date,
    until: date,
    *,
    tools: Mapping[str, str],
    table: IcebergTable,
    ctx: Any,
    restart: bool = False,
    max_pages: int | None = None,
) -> dict[str, Any]:
    """Backfill one repository's daily stars for ``[since, until]``, resuming from its checkpoint.

    ``tools`` maps lowercase ``owner/repo`` to tool ids (the requested or the current name may be the tracked one).

    Raises:
        LookupError: GitHub cannot resolve the repository (the caller dead-letters it).
        GitHubApiError / QuotaExhaustedError: the API failed; progress up to the last checkpoint is kept.
    """
    from madlake.sources.github.models import StargazerPage
    from madlake.sources.github.stars import StarBackfillState
    from madlake.sources.github.state import JsonStore

    store = JsonStore.default()
    name = checkpoint_name(requested, since, until)
    saved = None if restart else store.get(name)
    state = StarBackfillState.from_json(saved) if saved else None
    if state is not None and state.done:
        log.info(
            "Star history of %s for %s..%s is already complete (%d pages); skipping",
            requested,
            since,
            until,
            state.pages,
        )
        return {"repo": state.repo, "pages": 0, "days": 0, "resumed": False, "skipped": True}
    resumed = state is not None
    if resumed:
        assert state is not None
        log.info("Resuming star history of %s at page %d (cursor %s)", state.repo, state.pages + 1, state.cursor)
    origin = "live" if session.mode == "live" else session.labels.get("stargazers", "sample")
    pages = days = 0
    pending: list[dict[str, Any]] = []
    unflushed = 0
    while state is None or not state.done:
        target = state.repo if state else requested
        raw = session.client.stargazer_page(target, state.cursor if state else None)
        if raw is None:
            raise LookupError(f"GitHub cannot resolve repository {target!r}")
        page = StargazerPage.model_validate(raw)
        if state is None:
            state = StarBackfillState(
                repo=page.nameWithOwner, requested=requested, since=since, until=until, total=page.stargazerCount
            )
            if page.nameWithOwner.lower() != requested.lower():
                log.info("%s is now %s (GitHub followed the rename)", requested, page.nameWithOwner)
        info = page.stargazers.pageInfo
        pending += state.consume(page.starred_at, info.endCursor, info.hasNextPage)
        pages += 1
        unflushed += 1
        if state.done or unflushed >= FLUSH_PAGES or len(pending) >= FLUSH_DAYS:
            # Merge, then checkpoint: a crash in between redoes these pages, and their merge changes nothing.
            tool_id = tools.get(requested.lower()) or tools.get(state.repo.lower())
            days += _merge_star_rows(table, pending, tool_id, origin, ctx)
            store.put(name, state.to_json())
            pending, unflushed = [], 0
        if pages % 10 == 0:
            log.info("%s: %d pages, %d days written, now at %s", state.repo, state.pages, days, state.boundary)
        if max_pages is not None and pages >= max_pages and not state.done:
            if pending or unflushed:
                tool_id = tools.get(requested.lower()) or tools.get(state.repo.lower())
                days += _merge_star_rows(table, pending, tool_id, origin, ctx)
                store.put(name, state.to_json())
            break
    assert state is not None
    log.info(
        "Star history of %s: %d pages this run (%d in all), %d days merged, complete=%s",
        state.repo,
        pages,
        state.pages,
        days,
        state.done,
    )
    return {"repo": state.repo, "pages": pages, "days": days, "resumed": resumed, "skipped": False, "done": state.done}


def backfill_star_history(
    repos: Sequence[str] | None,
    since: date,
    until: date,
    *,
    source_mode: str | None = None,
    restart: bool = False,
) -> dict[str, Any]:
    """Backfill ``github_stars_daily`` for ``repos`` (default: every tracked repository) over ``[since, until]``.

    Repositories GitHub cannot resolve go to ``rejected_records`` (entity ``star_history``); API failures raise after
    checkpointing what was done (rerun to resume).
    """
    from madlake.lakehouse.deadletter import Rejection, write_dead_letters
    from madlake.lakehouse.tables import load_table
    from madlake.lakehouse.writes import CommitContext

    if since > until:
        raise ValueError(f"since ({since}) is after until ({until})")
    from madlake.catalog.models import GITHUB_REPO_RE

    # Names from params become URL paths: refuse anything but owner/name (no '..', '?', spaces, extra segments).
    bad = [r for r in repos or () if not GITHUB_REPO_RE.match(str(r)) or {".", ".."} & set(str(r).split("/"))]
    if bad:
        raise ValueError(f"invalid GitHub repository name(s) {bad!r}: expected owner/name")
    ctx = CommitContext.current(source=SOURCE)
    catalog = {r.lower(): t for r, t in tracked_repos().items()}
    table = load_table(Table.GITHUB_STARS_DAILY)
    rejections: list[Rejection] = []
    results: list[dict[str, Any]] = []
    with open_session(source_mode) as session:
        wanted = list(repos) if repos else sorted(catalog)
        if not repos and session.recorded_stars is not None:
            wanted = [r for r in wanted if r.lower() in session.recorded_stars]
            log.info("Replay has star history for %d tracked repositories", len(wanted))
        log.info(
            "Star history backfill of %d repositories for %s..%s (%s mode)", len(wanted), since, until, session.mode
        )
        for requested in wanted:
            try:
                result = backfill_repo(
                    session, requested, since, until, tools=catalog, table=table, ctx=ctx, restart=restart
                )
            except LookupError as exc:
                rejections.append(Rejection(str(exc), {"repo": requested}, requested))
                continue
            results.append(result)
        stats = session.client.stats.as_dict()
    write_dead_letters(SOURCE, STARS_ENTITY, until, rejections, ctx)
    summary = {
        "since": since.isoformat(),
        "until": until.isoformat(),
        "repos": len(results),
        "pages": sum(r["pages"] for r in results),
        "days": sum(r["days"] for r in results),
        "resumed": sum(1 for r in results if r["resumed"]),
        "skipped": sum(1 for r in results if r["skipped"]),
        "rejected": len(rejections),
        "calls": stats,
    }
    log.info("Star history backfill done: %s", summary)
    return summary


# ----------------------------------------------------------------------------------------------------------------
# CLI: madlake github snapshot --date D | madlake github stars --since D1 [--until D2] [--repo R ...] [--restart]
# ----------------------------------------------------------------------------------------------------------------


def _cmd_snapshot(args: argparse.Namespace) -> int:
    summary = snapshot_repos(date.fromisoformat(args.date), source_mode=args.source_mode)
    calls = summary["calls"]
    print(  # noqa: T201 - a command's output
        f"{summary['day']}: {summary['rows']} repositories ({summary['renamed']} renamed, {summary['not_modified']} "
        f"unchanged), {summary['rejected']} rejected; {calls['rest_calls']} REST calls ({calls['rest_not_modified']} "
        f"free 304s), {calls['graphql_calls']} GraphQL calls"
    )
    return 0


def _cmd_stars(args: argparse.Namespace) -> int:
    until = date.fromisoformat(args.until) if args.until else (datetime.now(UTC) - timedelta(days=1)).date()
    since = date.fromisoformat(args.since) if args.since else until - timedelta(days=DEFAULT_HISTORY_DAYS - 1)
    summary = backfill_star_history(args.repo or None, since, until, source_mode=args.source_mode, restart=args.restart)
    print(  # noqa: T201 - a command's output
        f"{summary['since']}..{summary['until']}: {summary['repos']} repositories, {summary['pages']} pages, "
        f"{summary['days']} days merged ({summary['resumed']} resumed, {summary['skipped']} already complete), "
        f"{summary['rejected']} rejected; {summary['calls']['graphql_calls']} GraphQL calls"
    )
    return 0


def register(sub: Any) -> None:
    """Add ``madlake github ...``: the DAGs' task bodies without Airflow (cheap: nothing heavy until a command runs)."""
    group = sub.add_parser("github", help="GitHub: snapshot repositories, backfill star history without Airflow")
    cmds = group.add_subparsers(dest="github_command", required=True)
    p = cmds.add_parser("snapshot", help="snapshot every tracked repository as the rows of DATE (replaces the day)")
    p.add_argument("--date", required=True, help="the snapshot day, YYYY-MM-DD")
    p.add_argument("--source-mode", choices=["replay", "live"], help="override MADLAKE_SOURCE_MODE")
    p.set_defaults(handler=_cmd_snapshot)
    p = cmds.add_parser("stars", help="backfill daily stars (resumes from checkpoints; merged, never duplicated)")
    p.add_argument("--since", help=f"first day (default: {DEFAULT_HISTORY_DAYS} days back)")
    p.add_argument("--until", help="last day (default: yesterday)")
    p.add_argument("--repo", action="append", help="owner/name (repeatable; default: every tracked repository)")
    p.add_argument("--restart", action="store_true", help="ignore completed checkpoints and redo the window")
    p.add_argument("--source-mode", choices=["replay", "live"], help="override MADLAKE_SOURCE_MODE")
    p.set_defaults(handler=_cmd_stars)
