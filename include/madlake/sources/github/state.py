"""Small JSON state the GitHub pipelines keep beside the raw landings: the ETag cache and backfill checkpoints.

Both live under ``<raw_uri>/github/state/`` (``file://`` locally, ``s3://`` on AWS), not in Iceberg: they are
operational state of one client, read and written whole, a few hundred KB at most.

Failure semantics: a local write goes to a temporary file first and is renamed into place (S3 PUTs are atomic), so a
process killed mid-write leaves the previous version. A file that cannot be parsed is logged and treated as absent:
for the ETag cache that costs full requests once; for a checkpoint, the backfill restarts that repo from the top,
which is safe because the daily rows it writes are merged on their key.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from pyiceberg.io import FileIO

from madlake.config import get_settings
from madlake.lakehouse.catalog import file_io

log = logging.getLogger(__name__)


class JsonStore:
    """Named JSON documents under one root URI (``file:///...`` or ``s3://bucket/prefix``)."""

    def __init__(self, root_uri: str) -> None:
        self.root_uri = root_uri.rstrip("/")
        parsed = urlparse(self.root_uri)
        self._local: Path | None = Path(parsed.path) if parsed.scheme in ("", "file") else None

    @classmethod
    def default(cls) -> JsonStore:
        """``<raw_uri>/github/state`` of the active settings."""
        return cls(f"{get_settings().raw_uri}/github/state")

    def _io(self) -> FileIO:
        return file_io()

    def get(self, name: str) -> dict[str, Any] | None:
        """The document ``name``, or ``None`` when it does not exist or cannot be parsed (logged)."""
        try:
            if self._local is not None:
                path = self._local / name
                if not path.exists():
                    return None
                text = path.read_text(encoding="utf-8")
            else:
                source = self._io().new_input(f"{self.root_uri}/{name}")
                if not source.exists():
                    return None
                with source.open() as f:
                    text = f.read().decode("utf-8")
            value = json.loads(text)
        except (OSError, ValueError) as exc:
            log.warning("State %s/%s is unreadable (%s); treating it as absent", self.root_uri, name, exc)
            return None
        return value if isinstance(value, dict) else None

    def put(self, name: str, value: dict[str, Any]) -> None:
        """Write ``value`` as ``name`` atomically (temp file + rename locally; one PUT on S3)."""
        data = json.dumps(value, sort_keys=True, default=str).encode("utf-8")
        if self._local is not None:
            path = self._local / name
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
            try:
                with os.fdopen(fd, "wb") as f:
                    f.write(data)
                os.replace(tmp, path)
            except BaseException:
                Path(tmp).unlink(missing_ok=True)
                raise
            return
        with self._io().new_output(f"{self.root_uri}/{name}").create(overwrite=True) as f:
            f.write(data)

    def delete(self, name: str) -> None:
        if self._local is not None:
            (self._local / name).unlink(missing_ok=True)
        else:
            self._io().delete(f"{self.root_uri}/{name}")


class EtagCache:
    """URL → (ETag, body) of the last 200 answer, for conditional requests.

    GitHub answers ``304 Not Modified`` (which does not count against the rate limit) when the ETag still matches;
    the client then reuses the cached body. Load once per run, :meth:`save` once at the end.
    """

    def __init__(self, store: JsonStore | None = None, name: str = "etag_cache.json") -> None:
        self.store = store
        self.name = name
        self.entries: dict[str, dict[str, Any]] = {}
        if store is not None:
            self.entries = (store.get(name) or {}).get("entries", {})
        self._dirty = False

    def get(self, url: str) -> tuple[str, Any, dict[str, str]] | None:
        """``(etag, body, kept headers)`` of the last 200 answer for ``url``."""
        entry = self.entries.get(url.lower())
        return (entry["etag"], entry["body"], entry.get("headers") or {}) if entry else None

    def put(self, url: str, etag: str, body: Any, headers: dict[str, str] | None = None) -> None:
        self.entries[url.lower()] = {"etag": etag, "body": body, "headers": dict(headers or {})}
        self._dirty = True

    def save(self) -> None:
        if self.store is not None and self._dirty:
            self.store.put(self.name, {"entries": self.entries})
            self._dirty = False
