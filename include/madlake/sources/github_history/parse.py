"""Parse EvanLi/Github-Ranking and best-of snapshot CSV files into ``github_repo_history`` rows.

Rules (the contract the pipeline and its tests rely on):

* **A file that cannot be read as what it claims** (not gzip/UTF-8, empty, a required column missing, a best-of file
  whose name carries no date) raises :class:`HistoryFileError`; the message starts with the file name. The pipeline
  dead-letters the file and keeps whatever was stored for its days (never replaced by nothing).
* **A bad row** (a number that is not a non-negative integer, an unparseable ``last_commit`` or ``date``, a row with
  too few or too many fields, a ``repo_url`` that is not a GitHub repository) becomes a :class:`Rejected` with the
  reason; the other rows of the file still load. An empty cell is a missing value: null, never 0.
* **Names**: ``repo_url`` (ranking) and ``github_id`` (best-of) are looked up, case-insensitively, among the catalog's
  current and former names (:meth:`~madlake.catalog.models.ToolCatalog.github_names`); ``repo`` is the tracked repo,
  ``listed_as`` the name in the file. A name alone (``repo_name``) never identifies a tool: ``perwendel/spark`` is not
  Apache Spark.
* **Untracked repositories**: in a ``DERIVED_tracked_repos_<year>`` file, which was filtered to the tracked repos, an
  unknown repo means the catalog lost a tool or the file is not what it claims: it is rejected (dead letter). In a
  live daily ranking file (~4,000 rows over ~40 lists) and in best-of snapshots (~400-900 projects) almost every row
  is a repo nobody tracks: those are skipped and counted (``untracked``), not dead-lettered.
* **One row per (day, repo)** in the ranking: a repo inside several top-100 lists on a day appears once per list;
  ``lists`` keeps the list names in file order and the figures are those of the repo's *last* row in the file. The
  lists are fetched one after another (top-100-stars, top-100-forks, then the language lists), so the last row is
  the latest observation: its ``last_commit`` is the newest of the repo's rows on all 17,155 multi-list repo-days of
  2018-12-18..2026-08-22 (the figures differ by a star or two on 1,930 of them).
"""

from __future__ import annotations

import csv
import gzip
import io
import math
import re
import zlib
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any, Literal

RANKING = "github-ranking"
BEST_OF_ML = "best-of-ml-python"
BEST_OF_PY = "best-of-python"
#: best-of source name -> the GitHub repository publishing its ``history/<date>_projects.csv``.
BEST_OF_REPOS: dict[str, str] = {BEST_OF_ML: "ml-tooling/best-of-ml-python", BEST_OF_PY: "ml-tooling/best-of-python"}
SOURCES = (RANKING, BEST_OF_ML, BEST_OF_PY)

#: Columns of a daily ``Data/github-ranking-<D>.csv`` (a DERIVED file has ``date`` first, then these).
RANKING_COLUMNS = (
    "rank",
    "item",
    "repo_name",
    "stars",
    "forks",
    "language",
    "repo_url",
    "username",
    "issues",
    "last_commit",
    "description",
)
RANKING_REQUIRED = ("item", "stars", "forks", "repo_url", "issues", "last_commit")
#: best-of column -> github_repo_history column.
BEST_OF_COUNTS = {
    "star_count": "stars",
    "fork_count": "forks",
    "open_issue_count": "open_issues",
    "closed_issue_count": "closed_issues",
    "contributor_count": "contributors",
    "commit_count": "commits",
    "release_count": "releases",
}
BEST_OF_REQUIRED = ("github_id", "category", *BEST_OF_COUNTS)

BEST_OF_FILE_RE = re.compile(r"^(\d{4}-\d{2}-\d{2})_projects\.csv(\.gz)?$")
DERIVED_FILE_RE = re.compile(r"^DERIVED_tracked_repos_(\d{4})\.csv(\.gz)?$")
REPO_URL_RE = re.compile(r"^https?://(?:www\.)?github\.com/([A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+?)/?$")

#: ``{lower-cased owner/name: (tool_id, tracked repo)}``, as :meth:`ToolCatalog.github_names` returns it.
Names = Mapping[str, tuple[str, str]]
Untracked = Literal["reject", "skip"]


class HistoryFileError(ValueError):
    """A whole file is unusable (unreadable, a required column missing, undatable); the message names the file."""

    def __init__(self, file: str, problem: str) -> None:
        super().__init__(f"{file}: {problem}")
        self.file = file
        self.problem = problem


class BadValueError(ValueError):
    """One cell cannot be read (the row is rejected, the rest of the file loads)."""


@dataclass(frozen=True)
class Rejected:
    """A row (or a file) that could not be accepted, with the day it belongs to when known."""

    source: str
    day: date | None
    reason: str
    raw: Any
    record_id: str | None = None


@dataclass
class Parsed:
    """What one file contributed: rows keyed once per (day, repo), rejections, and skipped untracked rows."""

    source: str
    file: str
    rows: list[dict[str, Any]] = field(default_factory=list)
    rejected: list[Rejected] = field(default_factory=list)
    untracked: Counter[str] = field(default_factory=Counter)
    lines: int = 0

    @property
    def days(self) -> set[date]:
        return {r["day"] for r in self.rows}


# --------------------------------------------------------------------------------------------------------------------
# Cells
# --------------------------------------------------------------------------------------------------------------------


def decode(data: bytes, file: str) -> str:
    """The text of a file as fetched or stored: gunzipped when gzip, UTF-8 (with or without BOM).

    Raises:
        HistoryFileError: corrupt or truncated gzip, not UTF-8, or empty.
    """
    if data[:2] == b"\x1f\x8b":
        try:
            data = gzip.decompress(data)
        except (OSError, EOFError, zlib.error) as exc:
            raise HistoryFileError(file, f"corrupt or truncated gzip ({exc})") from exc
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise HistoryFileError(file, f"not UTF-8 text ({exc})") from exc
    if not text.strip():
        raise HistoryFileError(file, "empty file")
    return text


def count(value: str | None) -> int | None:
    """A non-negative integer cell: ``""`` is missing (None); ``"83340.0"`` (pandas' float output) is 83340.

    Raises:
        BadValueError: anything else (text, a fraction, a negative number, infinity).
    """
    if value is None:
        return None
    text = value.strip()
    if not text or text.lower() == "nan":
        return None
    try:
        number = int(text)
    except ValueError:
        try:
            real = float(text)
        except ValueError:
            raise BadValueError(f"{value!r} is not a number") from None
        if math.isinf(real) or not real.is_integer():
            raise BadValueError(f"{value!r} is not a whole number") from None
        number = int(real)
    if number < 0:
        raise BadValueError(f"{value!r} is negative")
    return number


def timestamp(value: str | None) -> datetime | None:
    """An ISO-8601 instant (``2019-01-02T02:17:51Z``) in UTC; ``""`` is missing. A naive value is taken as UTC.

    Raises:
        BadValueError: not an ISO-8601 date-time.
    """
    if value is None or not value.strip():
        return None
    try:
        parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        raise BadValueError(f"{value!r} is not an ISO-8601 timestamp") from None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def best_of_day(file_name: str) -> date:
    """The day of a best-of snapshot from its name ``<YYYY-MM-DD>_projects.csv[.gz]``.

    Raises:
        HistoryFileError: the name carries no valid date.
    """
    match = BEST_OF_FILE_RE.match(file_name)
    if match:
        try:
            return date.fromisoformat(match.group(1))
        except ValueError:
            pass
    raise HistoryFileError(file_name, "cannot date a best-of snapshot: expected a name <YYYY-MM-DD>_projects.csv")


def _reader(text: str, file: str, required: Iterable[str]) -> csv.DictReader[str]:
    reader = csv.DictReader(io.StringIO(text, newline=""))
    header = reader.fieldnames or []
    missing = [c for c in required if c not in header]
    if missing:
        shown = ", ".join(header[:15]) + (", ..." if len(header) > 15 else "")
        raise HistoryFileError(file, f"missing column(s) {missing} (header: {shown or 'none'})")
    return reader


def _malformed(row: dict[str | None, Any], width: int) -> str | None:
    if None in row:
        return f"row has more fields than the header's {width}"
    if any(v is None for v in row.values()):
        return f"row has fewer fields than the header's {width}"
    return None


# --------------------------------------------------------------------------------------------------------------------
# EvanLi/Github-Ranking
# --------------------------------------------------------------------------------------------------------------------


def parse_ranking(
    text: str,
    file: str,
    names: Names,
    *,
    day: date | None = None,
    untracked: Untracked = "skip",
    start: date | None = None,
    end: date | None = None,
) -> Parsed:
    """Rows of a ranking file: a live daily file (``day`` given) or a DERIVED file (``date`` column, ``day=None``).

    ``start``/``end`` keep only the rows dated within them (a DERIVED file covers a whole year). An undatable row of a
    DERIVED file is rejected as belonging to the first day of the file's year (so it is reported once, by the run
    covering that day), or to ``start`` when the name carries no year.

    Raises:
        HistoryFileError: a required column is missing (``date`` too for a DERIVED file).
    """
    required = RANKING_REQUIRED if day is not None else ("date", *RANKING_REQUIRED)
    reader = _reader(text, file, required)
    width = len(reader.fieldnames or ())
    out = Parsed(RANKING, file)
    by_key: dict[tuple[date, str], dict[str, Any]] = {}
    year_match = DERIVED_FILE_RE.match(file.rsplit("/", 1)[-1])
    undated_day = date(int(year_match.group(1)), 1, 1) if year_match else start
    for line, row in enumerate(reader, start=2):
        out.lines += 1
        row_day = day
        if row_day is None:
            raw_date = (row.get("date") or "").strip()
            try:
                row_day = date.fromisoformat(raw_date)
            except ValueError:
                if _within(undated_day, start, end):
                    reason = f"line {line}: date {raw_date!r} is not a YYYY-MM-DD date"
                    out.rejected.append(Rejected(RANKING, undated_day, reason, row))
                continue
            if not _within(row_day, start, end):
                continue
        accepted = _ranking_row(row, row_day, line, width, names, untracked, out)
        if accepted is None:
            continue
        key = (row_day, accepted["repo"])
        item = accepted.pop("_item")
        existing = by_key.get(key)
        if existing is None:
            by_key[key] = {**accepted, "_lists": [item] if item else []}
            continue
        # The repo's later row is the later observation (see the module docstring): its figures win.
        lists = existing["_lists"]
        existing.update(accepted)
        existing["_lists"] = lists + ([item] if item and item not in lists else [])
    for r in by_key.values():
        r["lists"] = ",".join(r.pop("_lists")) or None
        out.rows.append(r)
    return out


def _ranking_row(
    row: dict[str | None, Any], day: date, line: int, width: int, names: Names, untracked: Untracked, out: Parsed
) -> dict[str, Any] | None:
    """One ranking row as a history row (plus ``_item``, its list), or None after recording why it was not one."""
    url = (row.get("repo_url") or "").strip()
    match = REPO_URL_RE.match(url)
    listed_as = match.group(1) if match else url
    record_id = f"{day.isoformat()}/{listed_as}/{row.get('item') or ''}"
    problem = _malformed(row, width)
    if problem is None and match is None:
        problem = f"repo_url {url!r} is not a GitHub repository URL"
    if problem is not None:
        out.rejected.append(Rejected(RANKING, day, f"line {line}: {problem}", row, record_id))
        return None
    tracked = names.get(listed_as.lower())
    if tracked is None:
        if untracked == "skip":
            out.untracked[listed_as] += 1
        else:
            reason = f"line {line}: repository {listed_as!r} is not in the tools catalog (current or former name)"
            out.rejected.append(Rejected(RANKING, day, reason, row, record_id))
        return None
    try:
        figures = {
            "stars": _cell(count, row, "stars"),
            "forks": _cell(count, row, "forks"),
            "open_issues": _cell(count, row, "issues"),
            "last_commit": _cell(timestamp, row, "last_commit"),
        }
    except BadValueError as exc:
        out.rejected.append(Rejected(RANKING, day, f"line {line}: {exc}", row, record_id))
        return None
    tool_id, repo = tracked
    return {
        "day": day,
        "repo": repo,
        "tool_id": tool_id,
        "listed_as": listed_as,
        **figures,
        "source": RANKING,
        "_item": (row.get("item") or "").strip(),
    }


def _within(day: date | None, start: date | None, end: date | None) -> bool:
    return day is None or ((start is None or start <= day) and (end is None or day <= end))


def _cell(parse: Any, row: Mapping[str | None, Any], column: str) -> Any:
    try:
        return parse(row.get(column))
    except BadValueError as exc:
        raise BadValueError(f"column {column}: {exc}") from None


# --------------------------------------------------------------------------------------------------------------------
# best-of-ml-python / best-of-python
# --------------------------------------------------------------------------------------------------------------------


def parse_best_of(text: str, file: str, names: Names, source: str, day: date) -> Parsed:
    """Rows of one best-of ``<day>_projects.csv``: the tracked projects' stars, forks, issues, contributors, commits,
    releases (``lists`` = the best-of category). Projects without a ``github_id`` or not tracked are counted as
    ``untracked``. A project listed twice keeps its first row (the second is rejected as a duplicate).

    Raises:
        HistoryFileError: a required column is missing.
    """
    if source not in BEST_OF_REPOS:
        raise ValueError(f"unknown best-of source {source!r}: expected one of {sorted(BEST_OF_REPOS)}")
    reader = _reader(text, file, BEST_OF_REQUIRED)
    width = len(reader.fieldnames or ())
    out = Parsed(source, file)
    seen: set[str] = set()
    for line, row in enumerate(reader, start=2):
        out.lines += 1
        github_id = (row.get("github_id") or "").strip()
        record_id = f"{day.isoformat()}/{github_id}"
        problem = _malformed(row, width)
        if problem is not None:
            out.rejected.append(Rejected(source, day, f"line {line}: {problem}", row, record_id))
            continue
        tracked = names.get(github_id.lower()) if github_id else None
        if tracked is None:
            out.untracked[github_id or "<no github_id>"] += 1
            continue
        tool_id, repo = tracked
        if repo in seen:
            reason = f"line {line}: {github_id!r} is listed again in the same snapshot (first row kept)"
            out.rejected.append(Rejected(source, day, reason, row, record_id))
            continue
        try:
            figures = {column: _cell(count, row, name) for name, column in BEST_OF_COUNTS.items()}
        except BadValueError as exc:
            out.rejected.append(Rejected(source, day, f"line {line}: {exc}", row, record_id))
            continue
        seen.add(repo)
        out.rows.append(
            {
                "day": day,
                "repo": repo,
                "tool_id": tool_id,
                "listed_as": github_id,
                **figures,
                "last_commit": None,
                "lists": (row.get("category") or "").strip() or None,
                "source": source,
            }
        )
    return out
