"""Generated sample history of the gold inputs (PyPI downloads, Reddit mentions, GitHub snapshots and stars).

For the gold tests and the 3-year benchmark (``bench/bench_gold.py``): deterministic, labeled as sample everywhere
(PyPI ``source = 'replay-sample'``, mentions ``method = 'sample'``, content ids ``sample-...``), and anchored on real
public figures (``data/gold_sources_base.json``: March 2026 PyPI downloads, GitHub stars in 2026) so the ranking of
tools looks like the real one, while the day-to-day history (trends, weekly cycle, noise, a few breakouts) is generated.

Writes go through the registered table specs when the source pipelines have registered them, and through contract
specs (:func:`contract_spec`) otherwise, filling required columns this generator does not model with neutral values.
"""

from __future__ import annotations

import json
import logging
import math
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from madlake.names import Table

if TYPE_CHECKING:
    import pyarrow as pa
    from madlake.catalog.models import ToolCatalog
    from madlake.tables.spec import TableSpec

log = logging.getLogger(__name__)

BASE_PATH = Path(__file__).parent / "data" / "gold_sources_base.json"
SOURCE_TABLES = (Table.PYPI_DOWNLOADS, Table.REDDIT_MENTIONS, Table.GITHUB_REPO_SNAPSHOTS, Table.GITHUB_STARS_DAILY)


@lru_cache(maxsize=1)
def _base() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(BASE_PATH.read_text(encoding="utf-8"))
    return data


def contract_spec(name: str) -> TableSpec:
    """The registered spec of ``name``, or (until its pipeline registers it) a spec with the contract columns."""
    from madlake.tables import all_specs
    from madlake.tables.spec import TableSpec
    from pyiceberg.schema import Schema
    from pyiceberg.types import (
        BooleanType,
        DateType,
        DoubleType,
        LongType,
        NestedField,
        StringType,
        TimestamptzType,
    )

    specs = all_specs()
    if name in specs:
        return specs[name]
    s, ln, d, ts, dbl, b = StringType, LongType, DateType, TimestamptzType, DoubleType, BooleanType
    columns: dict[str, list[tuple[str, Any, bool]]] = {
        Table.PYPI_DOWNLOADS: [
            ("download_date", d, True),
            ("project", s, True),
            ("version", s, True),
            ("installer", s, False),
            ("ci", b, False),
            ("downloads", ln, True),
            ("source", s, True),
        ],
        Table.REDDIT_MENTIONS: [
            ("content_id", s, True),
            ("content_type", s, True),
            ("subreddit", s, False),
            ("created_at", ts, True),
            ("tool_id", s, True),
            ("mention_count", ln, True),
            ("sentiment_score", dbl, False),
            ("sentiment_label", s, False),
            ("summary", s, False),
            ("method", s, False),
            ("processed_at", ts, False),
        ],
        Table.GITHUB_REPO_SNAPSHOTS: [
            ("snapshot_date", d, True),
            ("repo", s, True),
            ("tool_id", s, False),
            ("stars", ln, False),
            ("forks", ln, False),
            ("open_issues", ln, False),
            ("latest_release_tag", s, False),
            ("latest_release_at", ts, False),
        ],
        Table.GITHUB_STARS_DAILY: [
            ("repo", s, True),
            ("star_date", d, True),
            ("new_stars", ln, False),
            ("cumulative_stars", ln, False),
            ("tool_id", s, False),
            ("origin", s, True),
        ],
    }
    partition = {
        Table.PYPI_DOWNLOADS: ("download_date", "day"),
        Table.REDDIT_MENTIONS: ("created_at", "month"),
        Table.GITHUB_REPO_SNAPSHOTS: ("snapshot_date", "month"),
        Table.GITHUB_STARS_DAILY: ("star_date", "month"),
    }
    fields = [NestedField(i + 1, n, t(), required=r) for i, (n, t, r) in enumerate(columns[name])]
    return TableSpec(
        name=name,
        schema=Schema(*fields),
        partition=(partition[name],),  # type: ignore[arg-type]
        doc=f"{name} (gold contract columns; stand-in until its pipeline registers the table)",
    )


def _neutral(arrow_type: pa.DataType, n: int) -> pa.Array:
    import pyarrow as pa

    if pa.types.is_string(arrow_type) or pa.types.is_large_string(arrow_type):
        return pa.array(["sample"] * n, type=arrow_type)
    if pa.types.is_boolean(arrow_type):
        return pa.array([False] * n, type=arrow_type)
    if pa.types.is_timestamp(arrow_type):
        return pa.array([datetime(1970, 1, 1, tzinfo=UTC)] * n, type=arrow_type)
    if pa.types.is_date(arrow_type):
        return pa.array([date(1970, 1, 1)] * n, type=arrow_type)
    if pa.types.is_list(arrow_type):
        return pa.array([[]] * n, type=arrow_type)
    return pa.array([0] * n, type=arrow_type)


def fit_to_table(target: pa.Schema, columns: dict[str, Any]) -> pa.Table:
    """Arrow rows in ``target``'s schema: given columns cast, unknown optional ones null, unknown required neutral."""
    import pyarrow as pa

    n = len(next(iter(columns.values())))
    arrays = []
    for f in target:
        if f.name in columns:
            arrays.append(pa.array(columns[f.name]).cast(f.type))
        elif f.nullable:
            arrays.append(pa.nulls(n, type=f.type))
        else:
            arrays.append(_neutral(f.type, n))
    return pa.Table.from_arrays(arrays, schema=target)


def generate(start: date, end: date, catalog: ToolCatalog | None = None, seed: int = 7) -> dict[str, dict[str, Any]]:
    """Columns of sample rows for each source table over ``[start, end]`` (deterministic for a seed).

    The level of each tool at ``end`` matches its real anchor (or a random one); going back in time each tool
    follows its own yearly growth rate, a weekly cycle and noise. A few tools get three-day spikes (breakouts).
    """
    import numpy as np
    from madlake.catalog import load_catalog

    catalog = catalog or load_catalog()
    rng = np.random.default_rng(seed)
    base = _base()
    days = [start + timedelta(days=i) for i in range((end - start).days + 1)]
    n = len(days)
    t_years = (np.arange(n) - (n - 1)) / 365.0  # 0 at ``end``
    weekday = np.array([d.weekday() for d in days])
    weekly = np.where(weekday >= 5, 0.7, 1.05)
    out: dict[str, dict[str, list[Any]]] = {t: {} for t in SOURCE_TABLES}

    def add(table: str, **cols: Any) -> None:
        for k, v in cols.items():
            out[table].setdefault(k, []).extend(v if isinstance(v, list) else list(v))

    for i, tool in enumerate(catalog.tools):
        growth = rng.normal(0.35, 0.45)
        trend = np.exp(growth * t_years)
        spike = np.ones(n)
        if n > 120 and rng.random() < 0.15:
            at = int(rng.integers(100, n))
            spike[at : at + 3] = rng.uniform(3.5, 6.0)
        # PyPI: three rows per package and day (pip, CI, mirror).
        for pkg in tool.pypi:
            monthly = base["pypi_downloads_month"].get(pkg) or float(rng.lognormal(11, 2))
            daily = monthly / 30.0 * trend * weekly * spike * rng.lognormal(0, 0.12, n)
            user = np.maximum(0, daily * 0.75).astype(np.int64)
            ci = np.maximum(0, daily * 0.2).astype(np.int64)
            mirror = np.full(n, max(1, int(rng.integers(50, 400))), dtype=np.int64)
            for installer, is_ci, values in (("pip", False, user), ("pip", True, ci), ("bandersnatch", False, mirror)):
                add(
                    Table.PYPI_DOWNLOADS,
                    download_date=days,
                    project=[pkg] * n,
                    version=["sample"] * n,
                    installer=[installer] * n,
                    ci=[is_ci] * n,
                    downloads=values.tolist(),
                    source=["replay-sample"] * n,
                )
        # Reddit: one mention row per tool and day with mentions (count ~ Poisson).
        scale = math.log10(1 + sum(base["pypi_downloads_month"].get(p, 0) for p in tool.pypi) + 1e5)
        lam = np.maximum(0.05, (scale - 4.0) * 1.2) * trend * spike
        counts = rng.poisson(lam)
        bias = rng.normal(0.15, 0.2)
        for j in np.nonzero(counts)[0]:
            score = float(np.clip(rng.normal(bias, 0.25), -1, 1))
            label = (
                "very_positive"
                if score > 0.6
                else "positive"
                if score > 0.2
                else "neutral"
                if score >= -0.2
                else "negative"
                if score >= -0.6
                else "very_negative"
            )
            created = datetime.combine(days[j], datetime.min.time(), tzinfo=UTC) + timedelta(
                hours=int(rng.integers(24))
            )
            add(
                Table.REDDIT_MENTIONS,
                content_id=[f"sample-{tool.id}-{days[j]:%Y%m%d}"],
                content_type=["comment"],
                subreddit=["dataengineering"],
                created_at=[created],
                tool_id=[tool.id],
                mention_count=[int(counts[j])],
                sentiment_score=[score],
                sentiment_label=[label],
                summary=["sample"],
                method=["sample"],
                processed_at=[created + timedelta(hours=1)],
            )
        # GitHub: a daily snapshot per repo and the daily new stars.
        for repo in tool.github:
            stars_end = base["github_stars"].get(repo.lower()) or float(rng.lognormal(8.5, 1.3))
            star_growth = max(0.05, rng.normal(0.3, 0.2))
            cumulative = stars_end * np.exp(star_growth * t_years)
            noisy = np.maximum.accumulate((cumulative * (1 + 0.002 * spike.cumsum() / n)).astype(np.int64))
            new = np.diff(noisy, prepend=noisy[0] - max(1, int(noisy[0] * star_growth / 365)))
            new = np.where(spike > 1, (new * spike).astype(np.int64), new)
            period = int(rng.integers(25, 70))
            offset = int(rng.integers(0, period))
            release_idx = (np.arange(n) + offset) // period
            first_day = np.arange(n) - (np.arange(n) + offset) % period
            release_at = [datetime.combine(days[max(0, k)], datetime.min.time(), tzinfo=UTC) for k in first_day]
            add(
                Table.GITHUB_REPO_SNAPSHOTS,
                snapshot_date=days,
                repo=[repo] * n,
                tool_id=[tool.id] * n,
                requested_repo=[repo] * n,
                origin=["sample"] * n,
                stars=noisy.tolist(),
                forks=(noisy * 0.12).astype(np.int64).tolist(),
                open_issues=(noisy * 0.02).astype(np.int64).tolist(),
                latest_release_tag=[f"v1.{k}.0" for k in release_idx],
                latest_release_at=release_at,
            )
            add(
                Table.GITHUB_STARS_DAILY,
                repo=[repo] * n,
                star_date=days,
                origin=["sample"] * n,
                new_stars=new.tolist(),
                cumulative_stars=noisy.tolist(),
                tool_id=[tool.id] * n,
            )
        if i % 40 == 39:
            log.info("sample history: %d of %d tools generated", i + 1, len(catalog.tools))
    return out


def write_sample_sources(start: date, end: date, seed: int = 7) -> dict[str, int]:
    """Generate sample source history for ``[start, end]`` and write it, replacing those days (idempotent)."""
    from madlake.lakehouse.tables import ensure_table
    from madlake.lakehouse.writes import CommitContext, replace_partition
    from pyiceberg.expressions import And, GreaterThanOrEqual, LessThan

    ctx = CommitContext.current(source="sample")
    columns = generate(start, end, seed=seed)
    date_columns = {
        Table.PYPI_DOWNLOADS: "download_date",
        Table.REDDIT_MENTIONS: "created_at",
        Table.GITHUB_REPO_SNAPSHOTS: "snapshot_date",
        Table.GITHUB_STARS_DAILY: "star_date",
    }
    written = {}
    for name, cols in columns.items():
        table = ensure_table(contract_spec(name))
        data = fit_to_table(table.schema().as_arrow(), cols)
        col = date_columns[name]
        lo: Any = start.isoformat()
        hi: Any = (end + timedelta(days=1)).isoformat()
        if name == Table.REDDIT_MENTIONS:
            lo = datetime.combine(start, datetime.min.time(), tzinfo=UTC).isoformat()
            hi = datetime.combine(end + timedelta(days=1), datetime.min.time(), tzinfo=UTC).isoformat()
        replace_partition(table, data, And(GreaterThanOrEqual(col, lo), LessThan(col, hi)), ctx)
        written[name] = data.num_rows
        log.info("sample %s: %d rows for %s..%s", name, data.num_rows, start, end)
    return written
