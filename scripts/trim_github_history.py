"""Bundle the GitHub history replay: copy the Github-Ranking DERIVED files, trim the best-of snapshots.

Usage::

    .venv/bin/python scripts/trim_github_history.py SRC DST
    # e.g. SRC = ../shared/data/history/github, DST = include/madlake/replay/github

From ``SRC`` (a folder laid out like the history folder's ``github/``) into ``DST``, same relative paths and names:

* ``github-ranking/DERIVED_tracked_repos_<year>.csv.gz``: copied byte for byte (they already hold only the tracked
  repositories' rows);
* ``best-of-ml-python/<date>_projects.csv.gz`` and ``best-of-python/...``: the header and the rows whose
  ``github_id`` is a tracked repository, current or former name (``ToolCatalog.github_names``), same columns. Each
  kept line is byte-identical to the original: the script checks first that Python's csv writer reproduces the whole
  file exactly, and refuses a file it would not. gzip is written with mtime 0 so reruns give identical bytes.

Prints what it wrote and the total size; exits non-zero if the result would exceed ``--budget-mb`` (default 3).
"""

from __future__ import annotations

import argparse
import csv
import gzip
import io
import shutil
import sys
from pathlib import Path

BEST_OF = ("best-of-ml-python", "best-of-python")


def trim_best_of(src: Path, dst: Path, names: set[str]) -> tuple[int, int]:
    """Write ``src``'s header and tracked rows to ``dst``; returns (rows kept, rows in the file)."""
    raw = src.read_bytes()
    text = (gzip.decompress(raw) if raw[:2] == b"\x1f\x8b" else raw).decode("utf-8")
    terminator = "\r\n" if "\r\n" in text else "\n"
    rows = list(csv.reader(io.StringIO(text, newline="")))
    check = io.StringIO(newline="")
    csv.writer(check, lineterminator=terminator).writerows(rows)
    if check.getvalue() != text:
        raise SystemExit(f"{src}: csv round trip is not byte-identical; refusing to rewrite it")
    header, body = rows[0], rows[1:]
    column = header.index("github_id")
    kept = [r for r in body if len(r) > column and r[column].strip().lower() in names]
    out = io.StringIO(newline="")
    csv.writer(out, lineterminator=terminator).writerows([header, *kept])
    data = out.getvalue().encode("utf-8")
    dst.parent.mkdir(parents=True, exist_ok=True)
    if dst.name.endswith(".gz"):
        data = gzip.compress(data, compresslevel=9, mtime=0)
    dst.write_bytes(data)
    return len(kept), len(body)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("src", type=Path, help="a folder laid out like the history folder's github/")
    parser.add_argument("dst", type=Path, help="the bundled replay's github/ folder")
    parser.add_argument("--budget-mb", type=float, default=3.0, help="fail if the history files exceed this")
    args = parser.parse_args(argv)

    from madlake.catalog import load_catalog

    names = set(load_catalog().github_names())
    total = 0
    ranking = sorted((args.src / "github-ranking").glob("DERIVED_tracked_repos_*.csv*"))
    if not ranking:
        raise SystemExit(f"{args.src / 'github-ranking'}: no DERIVED_tracked_repos_<year> files")
    for path in ranking:
        target = args.dst / "github-ranking" / path.name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, target)
        total += target.stat().st_size
    print(f"github-ranking: {len(ranking)} files copied")
    for source in BEST_OF:
        files = sorted((args.src / source).glob("*_projects.csv*"))
        kept = seen = 0
        for path in files:
            k, n = trim_best_of(path, args.dst / source / path.name, names)
            kept, seen = kept + k, seen + n
            total += (args.dst / source / path.name).stat().st_size
        print(f"{source}: {len(files)} files, {kept} of {seen} rows kept (tracked projects)")
    print(f"total {total / 1e6:.2f} MB")
    if total > args.budget_mb * 1e6:
        print(f"over the budget of {args.budget_mb} MB", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
