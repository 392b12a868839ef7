"""Trim a snapshot to the tracked projects' rows without changing what the parser reads from it.

Used by ``scripts/trim_pypi_history.py`` to build the bundled replay. A trimmed copy keeps:

* the file's own metadata unchanged (``last_update``, ``query``, or ``source``/``meta``/``statistics``/...);
* the rows whose PEP 503-normalized project is tracked, plus the list's first row, its last row and its smallest
  count, each with ``rank`` = its 1-based position in the full list (the parser's rank for an untrimmed file);
  the last row's rank is the full list's size and the smallest count is ``list_min_downloads``, so both survive;
* ``madlake_trim``: ``{original_rows, projects, by}``, the projects the copy can speak for.

The parser therefore gives identical rows for a full file and its trimmed copy. The one bare-list file (2018-02-07)
cannot carry ``madlake_trim`` without changing its shape, so it is kept whole.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from madlake.sources.pypi_monthly.parse import detect_shape, list_rows, normalize

TRIMMED_BY = "scripts/trim_pypi_history.py"


def trim_document(doc: Any, tracked: Iterable[str], name: str) -> Any:
    """The trimmed copy of ``doc`` (a bare list is returned unchanged).

    Raises:
        SnapshotRejectedError: ``doc`` is not a valid snapshot (trimming never hides a bad file).
    """
    shape = detect_shape(doc, name)
    if shape == "list":
        return doc
    projects = sorted({normalize(p) for p in tracked})
    wanted = set(projects)
    rows = list_rows(doc["rows"], name)  # validates every row, gives the ranks the parser would give
    smallest = min(range(len(rows)), key=lambda i: (rows[i].downloads, -i))
    keep = {0, len(rows) - 1, smallest} | {i for i, r in enumerate(rows) if r.project in wanted}
    trimmed_rows = [{**doc["rows"][i], "rank": rows[i].rank} for i in sorted(keep)]
    previous = doc.get("madlake_trim") if isinstance(doc.get("madlake_trim"), dict) else {}
    out = {k: v for k, v in doc.items() if k not in ("rows", "madlake_trim")}
    out["rows"] = trimmed_rows
    out["madlake_trim"] = {
        "original_rows": previous.get("original_rows", rows[-1].rank),
        "projects": sorted(wanted & set(previous["projects"])) if previous.get("projects") else projects,
        "by": TRIMMED_BY,
    }
    return out
