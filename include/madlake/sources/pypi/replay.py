"""Replay: a day's recorded query result, ``<replay dir>/pypi/<YYYY-MM-DD>.jsonl`` (or ``.jsonl.gz``).

Each line is one JSON object whose keys are the ``pypi_downloads`` column names. The same parsing, audit and write
path as the live sources follow, so replay exercises the production code.
"""

from __future__ import annotations

import gzip
import json
import logging
import zlib
from datetime import date
from pathlib import Path
from typing import Any

from madlake.sources.pypi.models import FetchResult, Unparseable

log = logging.getLogger(__name__)


def day_file(replay_dir: Path, day: date) -> Path:
    """The replay file of ``day`` (the plain ``.jsonl`` name; a ``.jsonl.gz`` beside it is accepted too)."""
    return replay_dir / f"{day.isoformat()}.jsonl"


def available_days(replay_dir: Path) -> list[date]:
    """The days that have a replay file, sorted."""
    days = set()
    for p in replay_dir.glob("*.jsonl*"):
        stem = p.name.split(".jsonl")[0]
        try:
            days.add(date.fromisoformat(stem))
        except ValueError:
            continue
    return sorted(days)


def read_day(replay_dir: Path, day: date) -> FetchResult:
    """Read ``day``'s replay file; undecodable lines come back as :class:`Unparseable` (for the dead letters).

    Raises:
        FileNotFoundError: no file for ``day``; the message names the expected path.
        ValueError: the ``.jsonl.gz`` file is truncated or corrupt; the message names it.
    """
    path = day_file(replay_dir, day)
    gz = path.with_name(path.name + ".gz")
    if path.exists():
        text = path.read_text(encoding="utf-8", errors="replace")
    elif gz.exists():
        path = gz
        try:
            text = gzip.decompress(gz.read_bytes()).decode("utf-8", errors="replace")
        except (EOFError, OSError, zlib.error) as exc:
            # A cut download or a corrupt file: refuse the whole day (nothing half-loaded), naming the file.
            raise ValueError(f"PyPI replay file {gz} is not a complete gzip file ({exc}); replace it") from None
    else:
        raise FileNotFoundError(
            f"no PyPI replay file for {day}: expected {path} (or {gz.name}); "
            "set MADLAKE_REPLAY_DIR or use a live source"
        )
    records: list[Any] = []
    for n, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            records.append(json.loads(line))
        except json.JSONDecodeError as exc:
            records.append(Unparseable(f"{path.name} line {n}: invalid JSON ({exc.msg})", line))
    log.info("Replay %s: %d records from %s", day, len(records), path)
    return FetchResult(records=records, source="replay", origin=str(path))
