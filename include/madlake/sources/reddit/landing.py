"""Raw landings: every Reddit response, stored before anything parses it, so any later step re-runs without Reddit.

Layout, in the warehouse's object storage (``file://`` locally, ``s3://`` on AWS)::

    <raw_uri>/reddit/<run date>/<fetch stamp>/<part>.jsonl.gz     one line per response (see :class:`LandingWriter`)
    <raw_uri>/reddit/<run date>/<fetch stamp>/_manifest.json      written last: the landing is complete

Each line is ``{"endpoint", "path", "params", "fetched_at", "status", "body"?, "error"?}``: ``body`` is the JSON Reddit
returned, untouched; failed requests (404, exhausted retries) are landed too, with ``error``, so the landing says what
was skipped. A landing without a manifest was interrupted: loaders ignore it (the ingest rerun writes a new one).
Landings are immutable: a rerun of the ingest writes a new fetch stamp, it never rewrites an old landing.
"""

from __future__ import annotations

import gzip
import json
import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from pyarrow import fs as pafs

from madlake.lakehouse.catalog import filesystem

log = logging.getLogger(__name__)

MANIFEST = "_manifest.json"


def fetch_stamp(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y%m%dT%H%M%S%fZ")


@dataclass
class LandingWriter:
    """Writes one landing: gzip JSON lines per part, then the manifest. Not thread-safe; one per ingest run.

    Failure semantics: parts are written as they are fetched; if the process dies, the landing has no manifest and is
    ignored by loaders (its partial files stay for inspection). :meth:`finish` writes the manifest last.
    """

    root_uri: str
    day: date
    started_at: datetime
    run_id: str = "manual"
    counts: dict[str, int] = field(default_factory=dict)
    _open: dict[str, tuple[Any, gzip.GzipFile]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.fs, base = filesystem(self.root_uri.rstrip("/"))
        self.path = f"{base}/reddit/{self.day.isoformat()}/{fetch_stamp(self.started_at)}"
        self.fs.create_dir(self.path, recursive=True)

    @property
    def uri(self) -> str:
        scheme = self.root_uri.split("://", 1)[0] if "://" in self.root_uri else "file"
        return f"{scheme}://{self.path}"

    def write(
        self,
        part: str,
        *,
        endpoint: str,
        path: str,
        params: dict[str, Any],
        fetched_at: datetime,
        status: int,
        body: Any = None,
        error: str | None = None,
    ) -> None:
        """Append one response (or one failed request) to ``<part>.jsonl.gz``."""
        if part not in self._open:
            raw = self.fs.open_output_stream(f"{self.path}/{part}.jsonl.gz")
            self._open[part] = (raw, gzip.GzipFile(fileobj=raw, mode="wb", compresslevel=6))
        line: dict[str, Any] = {
            "endpoint": endpoint,
            "path": path,
            "params": params,
            "fetched_at": fetched_at.astimezone(UTC).isoformat(),
            "status": status,
        }
        if body is not None:
            line["body"] = body
        if error is not None:
            line["error"] = error
        gz = self._open[part][1]
        # A lone surrogate (valid JSON "\\udcff", e.g. a split emoji) cannot be UTF-8: write it back as that escape.
        text = json.dumps(line, ensure_ascii=False, separators=(",", ":"))
        gz.write(text.encode("utf-8", errors="backslashreplace") + b"\n")
        self.counts[part] = self.counts.get(part, 0) + 1

    def finish(self, summary: dict[str, Any]) -> str:
        """Close every part and write the manifest (which marks the landing complete). Returns the landing URI."""
        for raw, gz in self._open.values():
            gz.close()
            raw.close()
        self._open.clear()
        manifest = {
            "source": "reddit",
            "run_date": self.day.isoformat(),
            "run_id": self.run_id,
            "started_at": self.started_at.astimezone(UTC).isoformat(),
            "finished_at": datetime.now(UTC).isoformat(),
            "parts": {f"{p}.jsonl.gz": n for p, n in sorted(self.counts.items())},
            **summary,
        }
        with self.fs.open_output_stream(f"{self.path}/{MANIFEST}") as out:
            out.write(json.dumps(manifest, indent=2, default=str).encode("utf-8"))
        log.info("Landed %d response(s) in %d part(s) at %s", sum(self.counts.values()), len(self.counts), self.uri)
        return self.uri


@dataclass(frozen=True)
class Landing:
    uri: str
    stamp: str
    manifest: dict[str, Any]


def list_landings(root_uri: str, day: date) -> list[Landing]:
    """The complete landings of ``day`` (those with a manifest), oldest first; incomplete ones are logged, skipped."""
    filesys, base = filesystem(root_uri.rstrip("/"))
    day_dir = f"{base}/reddit/{day.isoformat()}"
    infos = filesys.get_file_info(pafs.FileSelector(day_dir, allow_not_found=True))
    landings = []
    for info in sorted((i for i in infos if i.type == pafs.FileType.Directory), key=lambda i: i.base_name):
        manifest_path = f"{info.path}/{MANIFEST}"
        if filesys.get_file_info(manifest_path).type != pafs.FileType.File:
            log.warning("Ignoring incomplete landing %s (no manifest: the ingest was interrupted)", info.path)
            continue
        with filesys.open_input_stream(manifest_path) as f:
            manifest = json.loads(f.read())
        scheme = root_uri.split("://", 1)[0] if "://" in root_uri else "file"
        landings.append(Landing(f"{scheme}://{info.path}", info.base_name, manifest))
    return landings


def read_landing(landing_uri: str) -> Iterator[dict[str, Any]]:
    """Every line of every part of a landing, part by part (parts in name order, lines in fetch order)."""
    filesys, path = filesystem(landing_uri)
    infos = filesys.get_file_info(pafs.FileSelector(path))
    for info in sorted((i for i in infos if i.base_name.endswith(".jsonl.gz")), key=lambda i: i.base_name):
        with filesys.open_input_stream(info.path) as raw, gzip.GzipFile(fileobj=raw) as gz:
            for n, (data, size) in enumerate(_bounded_lines(gz), start=1):

                def unreadable(reason: str, n: int = n, data: bytes = data, name: str = info.base_name) -> dict:
                    return {
                        "endpoint": "unreadable",
                        "status": 0,
                        "error": f"{name}:{n}: {reason}",
                        "raw": data[:65536].decode("utf-8", errors="replace"),
                        "fetched_at": None,
                        "path": name,
                        "params": {},
                    }

                if size > MAX_LINE_BYTES:
                    yield unreadable(f"response line of {size:,} bytes is over the {MAX_LINE_BYTES:,}-byte cap")
                    continue
                if not data.strip():
                    continue
                try:
                    yield json.loads(data.decode("utf-8"))
                except UnicodeDecodeError as exc:
                    yield unreadable(f"not valid UTF-8 at byte {exc.start} ({exc.reason})")
                except json.JSONDecodeError as exc:
                    yield unreadable(str(exc))


#: A landed response line above this is not a genuine Reddit answer (100 posts of 40,000 characters, with their HTML,
#: are ~15 MB): it is rejected whole, read in bounded chunks and never held in memory.
MAX_LINE_BYTES = 64 << 20


def _bounded_lines(stream: Any, limit: int = MAX_LINE_BYTES) -> Iterator[tuple[bytes, int]]:
    """``(line, size)`` per line of a binary stream; a line over ``limit`` bytes yields only its first chunk."""
    while True:
        line = stream.readline(limit + 1)
        if not line:
            return
        size = len(line)
        if size > limit and not line.endswith(b"\n"):
            head = line[:65536]
            while line and not line.endswith(b"\n"):  # skip the rest in bounded chunks
                line = stream.readline(1 << 20)
                size += len(line)
            yield head, size
            continue
        yield line, size
