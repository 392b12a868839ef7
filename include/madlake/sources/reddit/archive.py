"""Pushshift / Arctic Shift subreddit dumps: ``<subreddit>_submissions.zst`` and ``<subreddit>_comments.zst``.

Each dump is zstandard-compressed NDJSON (one Reddit record per line) written with a long window (``--long=31``),
so it is decompressed as a stream with ``max_window_size`` = 2 GiB and read line by line. This reader holds one
4 MiB chunk and one partial line; the zstd decoder additionally keeps the frame's history, which grows with the data
read up to min(dump size, 2 GiB) because a long-window frame may refer that far back (a property of the dump, not of
this code: bare decompression peaks the same, see ``bench/bench_reddit.py``).
Works on a local path, ``file://`` or ``s3://`` URI.

The archives' schema differs from the API's (numeric strings for ``created_utc``, no ``name``/``depth``,
``retrieved_on``/``retrieved_utc``, Arctic Shift's ``_meta``); :mod:`madlake.models.reddit` accepts both, and
:func:`observed_at` takes the archive's retrieval time as the observation time, so an archive copy never overrides a
fresher API observation of the same item.
"""

from __future__ import annotations

import gzip
import json
import logging
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import msgspec
import zstandard
from pyarrow import fs as pafs

from madlake.models.reddit import Source, subreddit_name
from madlake.sources.reddit.landing import filesystem

log = logging.getLogger(__name__)

MAX_WINDOW = 2**31  # 2 GiB: the window Pushshift/Arctic Shift dumps are compressed with
READ_SIZE = 1 << 22


@dataclass
class ReadStats:
    bytes_decompressed: int = 0
    lines: int = 0
    bad_lines: int = 0
    seconds: float = 0.0

    @property
    def mb_per_s(self) -> float:
        return self.bytes_decompressed / 1e6 / self.seconds if self.seconds else 0.0


def dump_uri(base: str, subreddit: str, kind: str) -> str:
    """``<base>/<subreddit>_<kind>.zst`` (``kind``: submissions | comments); refuses a name that is not a subreddit."""
    if kind not in ("submissions", "comments"):
        raise ValueError(f"unknown dump kind {kind!r} (submissions, comments)")
    return f"{base.rstrip('/')}/{subreddit_name(subreddit)}_{kind}.zst"


def iter_lines(uri: str, stats: ReadStats | None = None, *, progress_every: int = 256 << 20) -> Iterator[bytes]:
    """The lines of a zstd NDJSON dump, decompressed as a bounded-memory stream.

    Raises:
        FileNotFoundError: naming the dump when it does not exist.
        zstandard.ZstdError: the file is not zstd or is corrupt (the message names the dump).
    """
    stats = stats if stats is not None else ReadStats()
    filesys, path = filesystem(uri)
    if filesys.get_file_info(path).type != pafs.FileType.File:
        raise FileNotFoundError(f"archive dump {uri} does not exist")
    start = time.perf_counter()
    next_report = progress_every
    with filesys.open_input_stream(path, compression=None) as raw:
        reader = zstandard.ZstdDecompressor(max_window_size=MAX_WINDOW).stream_reader(raw, read_size=READ_SIZE)
        tail = b""
        try:
            while True:
                chunk = reader.read(READ_SIZE)
                if not chunk:
                    break
                stats.bytes_decompressed += len(chunk)
                lines = (tail + chunk).split(b"\n")
                tail = lines.pop()
                stats.lines += len(lines)
                yield from lines
                if stats.bytes_decompressed >= next_report:
                    elapsed = time.perf_counter() - start
                    log.info(
                        "%s: %d MB decompressed, %d lines, %.0f MB/s",
                        uri,
                        stats.bytes_decompressed >> 20,
                        stats.lines,
                        stats.bytes_decompressed / 1e6 / max(elapsed, 1e-9),
                    )
                    next_report += progress_every
        except zstandard.ZstdError as exc:
            raise zstandard.ZstdError(f"{uri}: {exc}") from exc
        finally:
            stats.seconds += time.perf_counter() - start
        if tail.strip():
            stats.lines += 1
            yield tail


def source_of(record: dict[str, Any]) -> Source:
    """Arctic Shift records carry ``_meta``; older Pushshift ones do not."""
    return "arctic_shift" if "_meta" in record else "pushshift"


def observed_at(record: dict[str, Any]) -> datetime:
    """When the archive saw the record (``retrieved_on``/``retrieved_utc``/``_meta.retrieved_2nd_on``), else created."""
    meta_obj = record.get("_meta")
    meta: dict[str, Any] = meta_obj if isinstance(meta_obj, dict) else {}
    for value in (
        meta.get("retrieved_2nd_on"),
        record.get("retrieved_on"),
        record.get("retrieved_utc"),
        record.get("created_utc"),
    ):
        try:
            if value is not None and not isinstance(value, bool):
                return datetime.fromtimestamp(float(value), tz=UTC)
        except (TypeError, ValueError, OverflowError, OSError):  # -1e18 raises OSError, not ValueError
            continue
    return datetime.fromtimestamp(0, tz=UTC)


def created_epoch(record: dict[str, Any]) -> float | None:
    try:
        value = record.get("created_utc")
        return None if value is None or isinstance(value, bool) else float(value)
    except (TypeError, ValueError):
        return None


def iter_records(uri: str, stats: ReadStats | None = None) -> Iterator[tuple[int, dict[str, Any] | None, bytes]]:
    """``(line number, parsed object or None when the line is not a JSON object, raw line)`` per non-blank line.

    Lines are decoded with msgspec (about twice the speed of the stdlib here; JSON parsing is what bounds the read
    rate): a line it refuses (malformed, truncated, a number out of range) is reported as unparseable.
    """
    decode = msgspec.json.Decoder().decode
    for n, line in enumerate(iter_lines(uri, stats), start=1):
        if not line.strip():
            continue
        try:
            obj = decode(line)
        except (msgspec.DecodeError, msgspec.ValidationError):
            obj = None
        if not isinstance(obj, dict):
            if stats is not None:
                stats.bad_lines += 1
            yield n, None, line
            continue
        yield n, obj, line


# --------------------------------------------------------------------------------------------------------------------
# Recorded threads → archive dumps
# --------------------------------------------------------------------------------------------------------------------


def thread_records(body: Any) -> Iterator[tuple[str, dict[str, Any]]]:
    """Flatten one ``/comments/<id>`` answer (``[Listing(t3), Listing(t1 tree)]``) into archive records.

    Yields ``("submissions", t3 data)`` then ``("comments", t1 data)`` depth-first, each record as Reddit sent it
    minus the nested ``replies`` (a dump has one object per line; the tree is kept by ``parent_id``). ``more`` stubs
    are not records and are dropped. Raises ``ValueError`` when ``body`` is not such an answer.
    """
    if not (isinstance(body, list) and len(body) == 2 and all(isinstance(b, dict) for b in body)):
        raise ValueError("not a /comments answer: expected [Listing(t3), Listing(t1)]")
    for node in (body[0].get("data") or {}).get("children") or []:
        if isinstance(node, dict) and node.get("kind") == "t3" and isinstance(node.get("data"), dict):
            yield "submissions", node["data"]
    stack = list((body[1].get("data") or {}).get("children") or [])[::-1]
    while stack:
        node = stack.pop()
        if not (isinstance(node, dict) and node.get("kind") == "t1" and isinstance(node.get("data"), dict)):
            continue
        data = node["data"]
        replies = data.get("replies")
        if isinstance(replies, dict):
            stack.extend(((replies.get("data") or {}).get("children") or [])[::-1])
        yield "comments", {k: v for k, v in data.items() if k != "replies"}


def read_thread(path: str) -> Any:
    """A recorded thread file (``.json`` or ``.json.gz``) as JSON; the error names the file."""
    raw = Path(path).read_bytes()
    try:
        return json.loads(gzip.decompress(raw) if path.endswith(".gz") else raw)
    except (OSError, ValueError) as exc:
        raise ValueError(f"{path}: not a readable JSON thread ({exc})") from exc


def threads_to_archive(thread_files: list[str], out_dir: str) -> dict[str, Any]:
    """Write recorded threads as Pushshift-style dumps ``<out>/<subreddit>_{submissions,comments}.zst``.

    One JSON object per line, zstandard-compressed (with a long window, as the real dumps are), so that
    ``reddit_archive_backfill`` (``archive=<out>``) reads them through the same code path as a downloaded dump.
    Records are written as recorded (no field added or changed; ``replies`` unnested). One dump pair per subreddit;
    records are written thread by thread (one thread in memory at a time). Returns counts per dump.

    Raises:
        ValueError: a file is not a ``/comments`` answer (the message names it).
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    writers: dict[tuple[str, str], Any] = {}
    files: dict[tuple[str, str], Any] = {}
    counts: dict[str, int] = {}
    try:
        for path in sorted(thread_files):
            try:
                records = list(thread_records(read_thread(path)))
            except ValueError as exc:
                raise ValueError(f"{path}: {exc}") from exc
            for kind, record in records:
                sub = str(record.get("subreddit") or "")
                if not sub:
                    raise ValueError(f"{path}: a record without subreddit (id {record.get('id')!r})")
                key = (sub, kind)
                if key not in writers:
                    name = f"{sub}_{kind}.zst"
                    files[key] = (out / name).open("wb")
                    writers[key] = zstandard.ZstdCompressor(level=19).stream_writer(files[key])
                    counts[name] = 0
                line = json.dumps(record, ensure_ascii=False, separators=(",", ":"))
                writers[key].write(line.encode("utf-8", errors="backslashreplace") + b"\n")
                counts[f"{sub}_{kind}.zst"] += 1
            log.info("%s: %d record(s) flattened", path, len(records))
    finally:
        for key, w in writers.items():
            w.close()
            files[key].close()
    return counts
