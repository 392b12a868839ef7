"""The reliability proofs' figures: printed (``pytest -s``) and merged into ``test-artifacts/reliability.json``.

Each proof test calls :func:`record` once with its figures (reruns tried, faults injected, bad records tried, rows
lost...). The JSON file is the summary ``make test`` leaves behind; a later run of the same proof replaces its entry.
"""

from __future__ import annotations

import fcntl
import json
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
SUMMARY = ROOT / "test-artifacts" / "reliability.json"


def record(proof: str, **figures: Any) -> dict[str, Any]:
    """Record (and print) the figures of one proof; returns the entry written."""
    entry = {**figures, "recorded_at": datetime.now(UTC).isoformat(timespec="seconds")}
    SUMMARY.parent.mkdir(parents=True, exist_ok=True)
    with open(SUMMARY.with_suffix(".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            data = json.loads(SUMMARY.read_text()) if SUMMARY.exists() else {}
        except json.JSONDecodeError:
            data = {}
        data[proof] = entry
        SUMMARY.write_text(json.dumps(data, indent=2, sort_keys=True, default=str) + "\n")
    shown = ", ".join(f"{k}={v}" for k, v in figures.items() if not isinstance(v, dict | list))
    sys.stdout.write(f"\n[reliability] {proof}: {shown}\n")
    return entry
