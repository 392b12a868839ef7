"""Build the bundled PyPI history replay: each genuine top-pypi-packages snapshot trimmed to the tracked projects.

Run by hand, never by tests or the pipeline::

    .venv/bin/python scripts/trim_pypi_history.py SRC DST

``SRC``: a folder of genuine snapshots named ``<commit date>_<sha10>.json[.gz]`` (e.g. the recorded history's
``pypi/top-pypi-packages-30-days``). ``DST``: where the trimmed copies go, same file names (e.g.
``include/madlake/replay/pypi/top-pypi-packages-30-days``). What a copy keeps, and why the parser reads the same rows
from it as from the full file, is in :mod:`madlake.sources.pypi_monthly.trim`. The tracked projects are the catalog's
PyPI names at the time the script runs; re-run it after adding a tool to the catalog.
"""

from __future__ import annotations

import argparse
import gzip
import json
import sys
from pathlib import Path

from madlake.catalog import load_catalog
from madlake.sources.pypi_monthly.parse import SnapshotRejectedError, decode, snapshot_name
from madlake.sources.pypi_monthly.trim import trim_document


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("src", type=Path, help="folder of genuine snapshot files")
    parser.add_argument("dst", type=Path, help="folder for the trimmed copies (same names)")
    args = parser.parse_args(argv)
    tracked = sorted(load_catalog().pypi_projects())
    args.dst.mkdir(parents=True, exist_ok=True)
    written = total = 0
    for path in sorted(args.src.iterdir()):
        if not path.is_file() or path.name.startswith("."):
            continue
        try:
            snapshot_name(path.name)
            doc = decode(path.read_bytes(), path.name)
            trimmed = trim_document(doc, tracked, path.name)
        except SnapshotRejectedError as exc:
            print(f"skipped {exc}", file=sys.stderr)
            continue
        text = json.dumps(trimmed, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
        # mtime=0: the same input gives the same bytes (a re-run changes nothing in git).
        data = gzip.compress(text, compresslevel=9, mtime=0)
        (args.dst / path.name).write_bytes(data)
        written += 1
        total += len(data)
    print(f"{written} files, {total:,} bytes, {len(tracked)} tracked projects -> {args.dst}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
