"""Reddit: the comment merge at scale, and archive-dump reading speed and memory.

1. Merge 100k comments (half updates of stored comments, half new) into a 2M-row ``reddit_comments`` table spread
   over 24 month partitions, through :func:`madlake.pipelines.reddit_merge.merge_rows` (reconcile + partition-scoped
   merge). Baseline in the same run: the foundation's bare ``writes.merge`` of the same rows (no reconciliation).
   Target: <= 5 s.
2. Read a zstd NDJSON dump (2 GiB window, like Pushshift/Arctic Shift) with
   :func:`madlake.sources.reddit.archive.iter_records` (decompress + split + JSON parse) in a child process, and
   report MB/s of decompressed NDJSON and the child's peak RSS. Baseline: bare streaming decompression of the same
   file. Targets: >= 50 MB/s, peak < 500 MB.

3. Backfill the recorded r/LocalLLaMA history day by day (``reddit_ingest`` + ``reddit_load`` code paths, through
   the replay server and the real praw client) over 2025-07-02 .. 2025-08-08 in a child process: time per stage,
   peak RSS, comments reachable through the days' listings. Replay folder: ``BENCH_REDDIT_HISTORY`` (a folder laid
   out like the shared history, e.g. the full genuine files), default the bundled trimmed copy. Baseline in the same
   run: reading every recorded tree at once (decompress + ``json.loads``, kept in memory), i.e. what a
   non-streaming load would hold.

Merge and dump data (1, 2) are **sample** data generated here from the shape of the real records (bodies are placeholder
text, ids are sequential); nothing is written outside a temporary folder. ``BENCH_REDDIT_MB`` sets the dump size
(default 200 MB decompressed).
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
STORED = 2_000_000
INCOMING = 100_000
MONTHS = 24
MERGE_TARGET_S = 5.0
READ_TARGET_MBS = 50.0
PEAK_TARGET_MB = 500.0
T0 = datetime(2024, 1, 1, tzinfo=UTC)


def _month_start(i: int) -> datetime:
    return datetime(T0.year + (T0.month - 1 + i) // 12, (T0.month - 1 + i) % 12 + 1, 1, tzinfo=UTC)


def _month_rows(table: Any, month: int, start_id: int, n: int, seen: datetime) -> Any:
    """``n`` sample comments created in month ``month`` (0-based from 2024-01), ids ``start_id..``, as Arrow."""
    import pyarrow as pa

    base = _month_start(month)
    ids = [f"s{start_id + i:09x}" for i in range(n)]
    created = [base + timedelta(seconds=(i * 97) % (27 * 86400)) for i in range(n)]
    cols = {
        "id": ids,
        "fullname": ["t1_" + i for i in ids],
        "link_id": [f"t3_p{(start_id + i) // 200:07x}" for i in range(n)],
        "submission_id": [f"p{(start_id + i) // 200:07x}" for i in range(n)],
        "parent_id": [f"t3_p{(start_id + i) // 200:07x}" for i in range(n)],
        "subreddit": ["dataengineering"] * n,
        "author": [f"sample_user_{i % 5000}" for i in range(n)],
        "body": [f"sample comment {i}: we moved our pipelines from cron to airflow and iceberg" for i in range(n)],
        "permalink": [f"/r/dataengineering/comments/p{(start_id + i) // 200:07x}/x/{ids[i]}/" for i in range(n)],
        "score": [i % 50 for i in range(n)],
        "depth": [i % 4 for i in range(n)],
        "gilded": [0] * n,
        "controversiality": [0] * n,
        "edited": [False] * n,
        "is_deleted": [False] * n,
        "is_removed": [False] * n,
        "created_at": created,
        "first_seen_at": [seen] * n,
        "last_seen_at": [seen] * n,
        "loaded_at": [seen] * n,
        "source": ["api"] * n,
    }
    schema = table.schema().as_arrow()
    return pa.Table.from_arrays(
        [pa.array(cols.get(f.name), type=f.type) if f.name in cols else pa.nulls(n, f.type) for f in schema],
        schema=schema,
    )


def bench_merge() -> dict[str, float]:
    with tempfile.TemporaryDirectory(prefix="bench-reddit-") as home:
        os.environ["MADLAKE_HOME"] = home
        os.environ["MADLAKE_PROFILE"] = "local"
        from madlake.lakehouse.catalog import reset_catalog_cache
        from madlake.lakehouse.tables import load_table
        from madlake.lakehouse.writes import CommitContext, merge
        from madlake.names import Table
        from madlake.pipelines.reddit_merge import merge_rows

        reset_catalog_cache()
        ctx = CommitContext("bench", "bench", "reddit")
        table = load_table(Table.REDDIT_COMMENTS)
        per_month = STORED // MONTHS  # 83,333 x 24 = 1,999,992 stored rows
        start = time.perf_counter()
        for m in range(MONTHS):
            table.append(_month_rows(table, m, m * per_month, per_month, T0))
        build_s = time.perf_counter() - start
        # incoming: the newest 50k stored comments come back with new scores, plus 50k new ones (last month)
        last = MONTHS - 1
        updates = _month_rows(table, last, last * per_month + per_month - INCOMING // 2, INCOMING // 2, T0)
        updates = updates.set_column(
            updates.schema.get_field_index("score"),
            "score",
            __import__("pyarrow").array(
                [s + 1 for s in updates.column("score").to_pylist()], type=updates.schema.field("score").type
            ),
        )
        new = _month_rows(table, last, MONTHS * per_month, INCOMING // 2, T0)
        seen = T0 + timedelta(days=800)
        rows = updates.to_pylist() + new.to_pylist()
        for r in rows:
            r["first_seen_at"] = r["last_seen_at"] = seen

        start = time.perf_counter()
        result = merge_rows(Table.REDDIT_COMMENTS, rows, ctx, now=seen)
        ours = time.perf_counter() - start
        assert (result.inserted, result.changed) == (INCOMING // 2, INCOMING // 2), result
        start = time.perf_counter()
        again = merge_rows(Table.REDDIT_COMMENTS, rows, ctx, now=seen + timedelta(hours=1))
        rerun = time.perf_counter() - start
        assert not again.committed

        # baseline: the foundation merge alone, same shape of input (another 100k, same partitions)
        import pyarrow as pa

        baseline_rows = pa.Table.from_pylist(rows, schema=table.schema().as_arrow())
        baseline_rows = baseline_rows.set_column(
            baseline_rows.schema.get_field_index("score"),
            "score",
            pa.array([2] * baseline_rows.num_rows, type=baseline_rows.schema.field("score").type),
        )
        table.refresh()
        start = time.perf_counter()
        merge(table, baseline_rows, ("id",), ctx)
        bare = time.perf_counter() - start
        table.refresh()
        total = sum(f.record_count for f in table.scan().plan_files() for f in [f.file])
        assert total == per_month * MONTHS + INCOMING // 2, total
        reset_catalog_cache()
    return {"build_s": build_s, "merge_s": ours, "rerun_s": rerun, "bare_merge_s": bare}


_READER = r"""
import json, sys, time

def peak_mb():
    # VmHWM: this process image's peak RSS. (ru_maxrss survives exec on Linux, so a child spawned by a big parent
    # would report at least the parent's RSS at fork time.)
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("VmHWM:")) / 1024
from madlake.sources.reddit.archive import ReadStats, iter_records
stats = ReadStats()
start = time.perf_counter()
records = sum(1 for _, r, _ in iter_records(sys.argv[1], stats) if r is not None)
elapsed = time.perf_counter() - start
print(json.dumps({"records": records, "bytes": stats.bytes_decompressed, "seconds": elapsed,
                  "peak_mb": peak_mb()}))
"""

_RAW = r"""
import json, sys, time, zstandard

def peak_mb():
    # VmHWM: this process image's peak RSS. (ru_maxrss survives exec on Linux, so a child spawned by a big parent
    # would report at least the parent's RSS at fork time.)
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("VmHWM:")) / 1024
start = time.perf_counter()
n = 0
with open(sys.argv[1], "rb") as fh:
    reader = zstandard.ZstdDecompressor(max_window_size=2**31).stream_reader(fh, read_size=1 << 22)
    while chunk := reader.read(1 << 22):
        n += len(chunk)
print(json.dumps({"bytes": n, "seconds": time.perf_counter() - start,
                  "peak_mb": peak_mb()}))
"""


def _make_dump(path: Path, target_mb: int) -> int:
    """A sample comments dump of ~``target_mb`` MB: the real 1mkowrw comments' records, re-id'd and repeated."""
    import zstandard

    thread = json.loads((ROOT / "include/madlake/replay/reddit/comments/1mkowrw.json").read_text())
    templates = [{k: v for k, v in c["data"].items() if k != "replies"} for c in thread[1]["data"]["children"]]
    params = zstandard.ZstdCompressionParameters.from_level(3, window_log=31, enable_ldm=True)
    written = n = 0
    with path.open("wb") as fh, zstandard.ZstdCompressor(compression_params=params).stream_writer(fh) as w:
        buf = io.BytesIO()
        while written < target_mb * 1_000_000:
            t = templates[n % len(templates)]
            rec = {
                **t,
                "id": f"b{n:08x}",
                "name": f"t1_b{n:08x}",
                "created_utc": 1_600_000_000 + n,
                "body": f"sample body {n} " + t["body"][:200],
            }
            line = json.dumps(rec).encode() + b"\n"
            buf.write(line)
            written += len(line)
            n += 1
            if buf.tell() > 1 << 22:
                w.write(buf.getvalue())
                buf = io.BytesIO()
        w.write(buf.getvalue())
    return written


def _child(code: str, path: Path) -> dict[str, Any]:
    out = subprocess.run(
        [sys.executable, "-c", code, str(path)],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "PYTHONPATH": str(ROOT / "include")},
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def bench_archive() -> dict[str, float]:
    target = int(os.environ.get("BENCH_REDDIT_MB", "200"))
    with tempfile.TemporaryDirectory(prefix="bench-reddit-dump-") as tmp:
        dump = Path(tmp) / "sample_comments.zst"
        start = time.perf_counter()
        size = _make_dump(dump, target)
        make_s = time.perf_counter() - start
        raw = _child(_RAW, dump)
        ours = _child(_READER, dump)
    assert ours["bytes"] == raw["bytes"] == size
    return {
        "dump_mb": size / 1e6,
        "compressed_mb": 0.0,
        "make_s": make_s,
        "read_mbs": ours["bytes"] / 1e6 / ours["seconds"],
        "raw_mbs": raw["bytes"] / 1e6 / raw["seconds"],
        "peak_mb": ours["peak_mb"],
        "raw_peak_mb": raw["peak_mb"],
        "records": ours["records"],
    }


_HISTORY = r"""
import json, logging, sys, time
from datetime import date
logging.disable(logging.INFO)

def peak_mb():
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("VmHWM:")) / 1024
from madlake.pipelines.reddit_load import backfill_range
from madlake.pipelines.tools import init_lakehouse
from madlake.sql.engine import get_engine
init_lakehouse()
start, end = date(2025, 7, 2), date(2025, 8, 8)
t0 = time.perf_counter()
rows = backfill_range(start, end, load_days=False, subreddits=["LocalLLaMA"], progress=False)
t1 = time.perf_counter()
loads = backfill_range(start, end, ingest_days=False, subreddits=["LocalLLaMA"], progress=False)
t2 = time.perf_counter()
q = lambda sql: get_engine().query(sql).to_pylist()[0]["n"]
print(json.dumps({
    "ingest_s": t1 - t0, "load_s": t2 - t1, "peak_mb": peak_mb(),
    "days": len(rows), "days_with_data": sum(1 for r in rows if r.get("landing")),
    "failed": [r for r in rows + loads if r.get("error")],
    "submissions": q("select count(*) as n from reddit_submissions"),
    "comments": q("select count(*) as n from reddit_comments"),
    "comment_threads": q("select count(distinct submission_id) as n from reddit_comments"),
}))
"""

_ALL_TREES = r"""
import gzip, json, sys, time
from pathlib import Path

def peak_mb():
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("VmHWM:")) / 1024
start = time.perf_counter()
trees = [json.loads(gzip.decompress(f.read_bytes())) for f in sorted(Path(sys.argv[1]).glob("*.json.gz"))]
def count(listing):
    n, stack = 0, [listing]
    while stack:
        cur = stack.pop()
        for node in ((cur or {}).get("data") or {}).get("children") or [] if isinstance(cur, dict) else []:
            if node.get("kind") == "t1":
                n += 1
                stack.append(node["data"].get("replies"))
    return n
comments = sum(count(t[1]) for t in trees)
print(json.dumps({"seconds": time.perf_counter() - start, "peak_mb": peak_mb(), "trees": len(trees),
                  "comments": comments}))
"""


def bench_history() -> dict[str, Any]:
    replay = Path(os.environ.get("BENCH_REDDIT_HISTORY") or ROOT / "include" / "madlake" / "replay")
    replay = replay.parent if replay.name == "reddit" else replay
    with tempfile.TemporaryDirectory(prefix="bench-reddit-history-") as home:
        env = {
            **os.environ,
            "PYTHONPATH": str(ROOT / "include"),
            "MADLAKE_HOME": home,
            "MADLAKE_PROFILE": "local",
            "MADLAKE_SOURCE_MODE": "replay",
            "MADLAKE_REPLAY_DIR": str(replay),
        }
        start = time.perf_counter()
        out = subprocess.run([sys.executable, "-c", _HISTORY], capture_output=True, text=True, check=True, env=env)
        wall = time.perf_counter() - start
    ours = json.loads(out.stdout.strip().splitlines()[-1])
    base = _child(_ALL_TREES, replay / "reddit" / "localllama" / "comments")
    return {"replay": str(replay), "wall_s": wall, **ours, "baseline": base}


def main() -> None:
    h = bench_history()
    print(f"reddit history backfill 2025-07-02..2025-08-08 from {h['replay']} (child process, wall {h['wall_s']:.0f}s)")
    print(
        f"  {h['days']} days, {h['days_with_data']} with a recorded listing; ingest {h['ingest_s']:.1f}s, "
        f"load {h['load_s']:.1f}s; peak RSS {h['peak_mb']:.0f} MB; failed days: {len(h['failed'])}"
    )
    b = h["baseline"]
    print(
        f"  loaded {h['submissions']:,} posts, {h['comments']:,} comments in {h['comment_threads']:,} threads "
        f"(of {b['comments']:,} comments in {b['trees']:,} recorded trees)"
    )
    print(
        f"  baseline all trees at once (decompress + json.loads): {b['seconds']:.1f}s, peak RSS {b['peak_mb']:.0f} MB; "
        f"backfill peak is {h['peak_mb'] / b['peak_mb']:.2f}x of it"
    )
    if os.environ.get("BENCH_REDDIT_HISTORY_ONLY"):
        return
    a = bench_archive()
    print(f"archive read: {a['dump_mb']:.0f} MB of sample NDJSON ({a['records']:,} records, 2 GiB-window zstd)")
    print(
        f"  iter_records (decompress+split+json): {a['read_mbs']:.0f} MB/s, peak RSS {a['peak_mb']:.0f} MB "
        f"(targets >= {READ_TARGET_MBS:.0f} MB/s, < {PEAK_TARGET_MB:.0f} MB)"
    )
    print(
        f"  baseline bare decompression:          {a['raw_mbs']:.0f} MB/s, peak RSS {a['raw_peak_mb']:.0f} MB; "
        f"ratio {a['read_mbs'] / a['raw_mbs']:.2f}x of bare"
    )
    m = bench_merge()
    print(
        f"merge: {INCOMING:,} comments (50% updates, 50% new) into {STORED:,} rows / {MONTHS} months "
        f"(table built in {m['build_s']:.1f}s)"
    )
    print(
        f"  merge_rows (reconcile + partition merge): {m['merge_s']:.2f}s (target <= {MERGE_TARGET_S:.0f}s); "
        f"no-op rerun {m['rerun_s']:.2f}s"
    )
    print(
        f"  baseline bare writes.merge:               {m['bare_merge_s']:.2f}s; ratio "
        f"{m['merge_s'] / m['bare_merge_s']:.2f}x of bare"
    )
    ok = m["merge_s"] <= MERGE_TARGET_S and a["read_mbs"] >= READ_TARGET_MBS and a["peak_mb"] < PEAK_TARGET_MB
    load1, load5, _ = os.getloadavg()
    print(f"  targets: {'met' if ok else 'NOT met'} (load average {load1:.1f}/{load5:.1f} on {os.cpu_count()} cores)")


if __name__ == "__main__":
    main()
