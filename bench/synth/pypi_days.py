"""GENERATED PyPI days for tests and benchmarks (``<day>.jsonl.gz``, rows of ``pypi_downloads``). Every row says
``replay-sample``.

Not product data: no genuine per-day PyPI file exists in this repository (the product's PyPI history is the real
monthly ``pypi_downloads_monthly``). The daily pipeline's tests and ``bench_pypi`` need BigQuery-shaped days, so this
generator writes them into a folder the caller names (``tests/conftest.py`` writes them into the test session's
replay folder). The only real input is ``data/monthly_downloads_2026-03.csv``: the genuine March 2026 download totals
of the tracked projects (hugovk/top-pypi-packages, commit ``7ec9534546eda4012c7826b6078e35eaa2c9c5f2``, ClickHouse,
all installers). Each day's per-project total is the monthly total / 31 times a weekday factor, a per-project trend
and a little noise, split over a few synthetic (version, installer, Python, OS, country, CI) combinations with a
seeded generator (same bytes every time). ``python -m bench.synth.pypi_days --out DIR`` writes them.
"""

from __future__ import annotations

import argparse
import csv
import gzip
import json
import logging
import math
import random
from datetime import date, timedelta
from pathlib import Path

log = logging.getLogger(__name__)

MONTHLY_CSV = Path(__file__).resolve().parent / "data" / "monthly_downloads_2026-03.csv"
#: Generated windows: March 2026 (the month the real totals describe) and 2026-06-03..2026-08-22, which ends on the day
#: of the real GitHub snapshot so the demo's gold metrics combine downloads, stars and growth on the same dates (its
#: first 28 days only fill the trailing windows, so the months compared start complete).
WINDOWS: tuple[tuple[date, date], ...] = ((date(2026, 2, 25), date(2026, 3, 31)), (date(2026, 6, 3), date(2026, 8, 22)))
FIRST_DAY, LAST_DAY = WINDOWS[0]
SOURCE_LABEL = "replay-sample"

_WEEKDAY = (1.08, 1.10, 1.09, 1.07, 1.02, 0.78, 0.80)  # Mon..Sun: CI and work-day installs dominate
_INSTALLERS = (("pip", 0.58), ("uv", 0.27), ("poetry", 0.07), ("pdm", 0.02), ("requests", 0.03), (None, 0.03))
_PYTHONS = (("3.12", 0.32), ("3.11", 0.27), ("3.10", 0.16), ("3.13", 0.15), ("3.9", 0.07), (None, 0.03))
_SYSTEMS = (("Linux", 0.82), ("Windows", 0.09), ("Darwin", 0.08), (None, 0.01))
_COUNTRIES = (
    ("US", 0.46),
    ("CN", 0.09),
    ("DE", 0.07),
    ("IE", 0.06),
    ("GB", 0.05),
    ("IN", 0.05),
    ("FR", 0.04),
    ("JP", 0.04),
    ("SG", 0.04),
    ("BR", 0.03),
    ("NL", 0.03),
    (None, 0.04),
)
_CI = ((True, 0.38), (False, 0.5), (None, 0.12))


def _pick(rng: random.Random, options: tuple[tuple[object, float], ...]) -> object:
    return rng.choices([o for o, _ in options], weights=[w for _, w in options])[0]


def monthly_totals(path: Path = MONTHLY_CSV) -> dict[str, int]:
    with path.open(newline="") as f:
        return {r["project"]: int(r["download_count"]) for r in csv.DictReader(f)}


def _versions(rng: random.Random) -> list[str]:
    major, minor = rng.randint(0, 3), rng.randint(1, 30)
    return [
        f"{major}.{minor}.{rng.randint(0, 4)}",
        f"{major}.{minor - 1}.{rng.randint(0, 9)}",
        f"{major}.{minor - 2}.0",
    ]


def day_rows(day: date, totals: dict[str, int], seed: int = 20260331) -> list[dict[str, object]]:
    """The sample rows of ``day`` (deterministic in ``seed``)."""
    rows: list[dict[str, object]] = []
    first, last = next(((a, b) for a, b in WINDOWS if a <= day <= b), WINDOWS[0])
    window = (last - first).days or 1
    for project in sorted(totals):
        prng = random.Random(f"{seed}:{project}")
        versions = _versions(prng)
        trend = prng.uniform(-0.15, 0.25)  # growth over the whole window
        rng = random.Random(f"{seed}:{project}:{day.isoformat()}")
        position = (day - first).days / window
        total = (
            totals[project] / 31 * _WEEKDAY[day.weekday()] * (1 + trend * (position - 0.5)) * rng.uniform(0.95, 1.05)
        )
        total_int = max(1, round(total))
        # Bigger projects get a finer split; keeps the bundled files small.
        parts = max(1, min(9, round(math.log10(max(total_int, 1)) * 1.6 - 3)))
        combos: dict[tuple[object, ...], float] = {}
        while len(combos) < parts:
            combo = (
                rng.choices(versions, weights=(0.6, 0.3, 0.1))[0],
                _pick(rng, _INSTALLERS),
                _pick(rng, _PYTHONS),
                _pick(rng, _SYSTEMS),
                _pick(rng, _COUNTRIES),
                _pick(rng, _CI),
            )
            combos.setdefault(combo, rng.expovariate(1.0) + 0.05)
        weight_sum = sum(combos.values())
        counts = [max(1, int(total_int * w / weight_sum)) for w in combos.values()]
        for (version, installer, python, system, country, ci), count in zip(combos, counts, strict=True):
            rows.append(
                {
                    "download_date": day.isoformat(),
                    "project": project,
                    "version": version,
                    "installer": installer,
                    "python_version": python,
                    "system": system,
                    "country_code": country,
                    "ci": ci,
                    "downloads": count,
                    "source": SOURCE_LABEL,
                }
            )
    return rows


def write_days(out_dir: Path, windows: tuple[tuple[date, date], ...] = WINDOWS) -> list[Path]:
    """Write one ``<day>.jsonl.gz`` per day of each window (byte-for-byte reproducible: gzip mtime 0)."""
    totals = monthly_totals()
    paths = []
    out_dir.mkdir(parents=True, exist_ok=True)
    for first, last in windows:
        day = first
        while day <= last:
            lines = "".join(json.dumps(r, separators=(",", ":")) + "\n" for r in day_rows(day, totals))
            path = out_dir / f"{day.isoformat()}.jsonl.gz"
            path.write_bytes(gzip.compress(lines.encode(), compresslevel=9, mtime=0))
            paths.append(path)
            day += timedelta(days=1)
    log.info("Wrote %d sample days to %s", len(paths), out_dir)
    return paths


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO)
    write_days(args.out)


if __name__ == "__main__":
    main()
