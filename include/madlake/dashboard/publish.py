"""Publish a built site: to ``<MADLAKE_HOME>/dashboard/`` locally, or to S3 on the aws profile (via pyarrow.fs).

Target: ``MADLAKE_DASHBOARD_URI`` when set (a local path or ``s3://bucket/prefix``), else ``<MADLAKE_HOME>/dashboard``
on the local profile and ``<MADLAKE_S3_WAREHOUSE>/dashboard`` on aws.

Failure semantics:

* Local: the new site is copied next to the old one and swapped in with two renames, so a reader sees either the old
  or the new site, never a half-written one; a failure before the swap leaves the old site untouched (the partial
  copy is removed).
* S3: every file is uploaded (with its Content-Type, so S3 static hosting serves it right) before files the new build
  no longer has are deleted; a failure midway leaves old and new pages side by side, all readable, and a retry
  uploads everything again (idempotent: same build, same objects).
"""

from __future__ import annotations

import logging
import mimetypes
import os
import shutil
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from madlake.config import Settings

log = logging.getLogger(__name__)

_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".json": "application/json",
    ".png": "image/png",
}


@dataclass(frozen=True)
class PublishedSite:
    target: str
    files: int
    bytes: int
    deleted: int = 0

    @property
    def index(self) -> str:
        """Where to open the site: the path (local) or URI (S3) of ``index.html``."""
        return f"{self.target.rstrip('/')}/index.html"


def dashboard_uri(settings: Settings | None = None) -> str:
    """The publish target for the active profile (see the module docstring)."""
    from madlake.config import get_settings

    override = os.environ.get("MADLAKE_DASHBOARD_URI")
    if override:
        return override.rstrip("/")
    settings = settings or get_settings()
    if settings.profile == "aws":
        return f"{settings.warehouse_uri.rstrip('/')}/dashboard"
    return str(settings.home_dir / "dashboard")


def _files(build_dir: Path) -> list[Path]:
    return sorted(p for p in build_dir.rglob("*") if p.is_file())


def publish_site(build_dir: Path, target: str | None = None, settings: Settings | None = None) -> PublishedSite:
    """Copy the site in ``build_dir`` to ``target`` (default :func:`dashboard_uri`), replacing what was there."""
    target = target or dashboard_uri(settings)
    if target.startswith("s3://"):
        return _publish_s3(build_dir, target, settings)
    return _publish_local(build_dir, Path(target.removeprefix("file://")))


def _publish_local(build_dir: Path, target: Path) -> PublishedSite:
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%f")
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = target.with_name(f".{target.name}.new-{stamp}")
    retired = target.with_name(f".{target.name}.old-{stamp}")
    try:
        shutil.copytree(build_dir, staging)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    if target.exists():
        target.rename(retired)
    staging.rename(target)
    shutil.rmtree(retired, ignore_errors=True)
    files = _files(target)
    size = sum(f.stat().st_size for f in files)
    log.info("Published dashboard to %s: %d files, %d bytes", target, len(files), size)
    return PublishedSite(str(target), len(files), size)


def _s3_filesystem(settings: Settings | None):  # type: ignore[no-untyped-def]
    from pyarrow import fs

    from madlake.config import get_settings

    settings = settings or get_settings()
    kwargs: dict[str, object] = {"region": settings.aws_region}
    if settings.s3_endpoint:
        endpoint = settings.s3_endpoint
        kwargs["scheme"] = "http" if endpoint.startswith("http://") else "https"
        kwargs["endpoint_override"] = endpoint.split("://", 1)[-1]
        kwargs["force_virtual_addressing"] = False
    return fs.S3FileSystem(**kwargs)  # credentials: the standard AWS chain (env, role), never settings


def _publish_s3(build_dir: Path, target: str, settings: Settings | None) -> PublishedSite:
    from pyarrow import fs as pafs

    s3 = _s3_filesystem(settings)
    root = target.removeprefix("s3://").rstrip("/")
    new_keys = set()
    size = 0
    files = _files(build_dir)
    for i, path in enumerate(files, 1):
        rel = path.relative_to(build_dir).as_posix()
        key = f"{root}/{rel}"
        ctype = _TYPES.get(path.suffix) or mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        data = path.read_bytes()
        with s3.open_output_stream(key, metadata={"Content-Type": ctype}) as out:
            out.write(data)
        new_keys.add(key)
        size += len(data)
        if i % 100 == 0:
            log.info("Uploaded %d/%d dashboard files to s3://%s", i, len(files), root)
    stale = [
        info.path
        for info in s3.get_file_info(pafs.FileSelector(root, recursive=True, allow_not_found=True))
        if info.type == pafs.FileType.File and info.path not in new_keys
    ]
    for key in stale:
        s3.delete_file(key)
    log.info(
        "Published dashboard to %s: %d files, %d bytes, %d stale files deleted", target, len(files), size, len(stale)
    )
    return PublishedSite(target, len(files), size, deleted=len(stale))
