"""The ``github_star_history`` pipeline: a resumable backfill of daily stars per tracked repository.

Contract of :func:`backfill_star_history`: pages each repository's stargazers newest first and merges daily rows on
``(repo, star_date)``; after every page, the completed days are merged *then* the GraphQL cursor is checkpointed. A
killed or failed run resumes from the last checkpoint; a crash between merge and checkpoint redoes one page, whose
merge changes nothing. A completed window is skipped on rerun (delete the checkpoint or pass ``restart=True`` to
redo it).

The client (replay or live) comes from :func:`madlake.pipelines.github_session.open_session`.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any

from madlake.catalog.models import GITHUB_REPO_RE
from madlake.lakehouse.deadletter import Rejection, write_dead_letters
from madlake.lakehouse.tables import load_table
from madlake.lakehouse.writes import merge, rows_to_arrow
from madlake.names import Table
from madlake.orchestration.request import RunRequest
from madlake.pipelines.github_session import SOURCE, Session, open_session, tracked_repos
from madlake.sources.github.models import StargazerPage
from madlake.sources.github.stars import StarBackfillState
from madlake.sources.github.state import JsonStore

if TYPE_CHECKING:
    from pyiceberg.table import Table as IcebergTable

    from madlake.lakehouse.writes import CommitContext

log = logging.getLogger(__name__)

STARS_ENTITY = "star_history"
#: The star backfill merges and checkpoints after this many pages, or once this many days are complete.
FLUSH_PAGES = 10
FLUSH_DAYS = 31


def checkpoint_name(requested: str, since: date, until: date) -> str:
    owner, name = requested.lower().split("/", 1)
    return f"star_history/{owner}__{name}__{since.isoformat()}__{until.isoformat()}.json"


def _merge_star_rows(
    table: IcebergTable, rows: Sequence[dict[str, Any]], tool_id: str | None, origin: str, ctx: CommitContext
) -> int:

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
    ctx: CommitContext,
    restart: bool = False,
    max_pages: int | None = None,
) -> dict[str, Any]:
    """Backfill one repository's daily stars for ``[since, until]``, resuming from its checkpoint.

    ``tools`` maps lowercase ``owner/repo`` to tool ids (the requested or the current name may be the tracked one).

    Raises:
        LookupError: GitHub cannot resolve the repository (the caller dead-letters it).
        GitHubApiError / QuotaExhaustedError: the API failed; progress up to the last checkpoint is kept.
    """
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
    request: RunRequest | None = None,
    *,
    source_mode: str | None = None,
    restart: bool = False,
) -> dict[str, Any]:
    """Backfill ``github_stars_daily`` for ``repos`` (default: every tracked repository) over ``[since, until]``.

    ``request``: the run (its DAG and run id tag the commits; ``None``: a standalone run).

    Repositories GitHub cannot resolve go to ``rejected_records`` (entity ``star_history``); API failures raise after
    checkpointing what was done (rerun to resume).
    """
    if since > until:
        raise ValueError(f"since ({since}) is after until ({until})")

    # Names from params become URL paths: refuse anything but owner/name (no '..', '?', spaces, extra segments).
    bad = [r for r in repos or () if not GITHUB_REPO_RE.match(str(r)) or {".", ".."} & set(str(r).split("/"))]
    if bad:
        raise ValueError(f"invalid GitHub repository name(s) {bad!r}: expected owner/name")
    ctx = (request or RunRequest.for_cli(start=since, end=until)).commit(SOURCE)
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
