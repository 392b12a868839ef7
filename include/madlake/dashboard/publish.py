"""Publish a built site: to ``<MADLAKE_HOME>/dashboard/`` locally, or to S3 on the aws profile (via pyarrow.fs).

Target: ``MADLAKE_DASHBOARD_URI`` when set (a local path or ``s3://bucket/prefix``), else ``<MADLAKE_HOME>/dashboard``
on the local profile and ``<MADLAKE_S3_WAREHOUSE>/dashboard`` on aws. A ``target`` param overrides both.

Safety: publishing never deletes or overwrites what it did not write (:func:`check_target`, run before anything is
built or written):

* the target must lie strictly inside an allowed root: ``MADLAKE_DASHBOARD_ROOTS`` (comma-separated paths or
  ``s3://`` prefixes), by default ``MADLAKE_HOME`` (and the S3 warehouse on aws);
* it must not be ``MADLAKE_HOME``, the warehouse, ``AIRFLOW_HOME`` or the replay folder, nor contain one of them, nor
  lie inside the warehouse or ``AIRFLOW_HOME``;
* an existing, non-empty target must be a previous build: it holds the marker file :data:`MARKER` that the publisher
  writes, listing every file of that build, and nothing else. Anything else is refused with
  :class:`UnsafeTargetError` naming the target and the reason; nothing is touched.

Failure semantics:

* Local: the new site is copied into a fresh sibling folder, then swapped with the old one in one atomic
  ``renameat2(RENAME_EXCHANGE)`` (two renames where the kernel lacks it), so a reader sees either the old or the new
  site, never a half-written one; a failure before the swap leaves the old site untouched. The old build is then
  removed file by file from its marker's list (no ``rmtree``): a file the publisher did not write is never deleted.
* S3: the marker is first rewritten to list the old and the new files, every file is uploaded (with its
  Content-Type, so S3 static hosting serves it right), then the files of the old build that the new one no longer has
  are deleted and the marker is rewritten with the new list. A failure midway leaves old and new pages side by side,
  all readable and all listed by the marker, and a retry uploads everything again (idempotent: same build, same
  objects). Objects the marker never listed are never deleted.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import json
import logging
import mimetypes
import os
import shutil
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath

from pyarrow import fs as pafs

from madlake.config import Settings, get_settings
from madlake.lakehouse.catalog import filesystem

log = logging.getLogger(__name__)

#: Written into every published build: which files the publisher wrote (the only ones it may ever delete).
MARKER = ".madlake-dashboard.json"
_PUBLISHER = "madlake-dashboard"
#: Files of a previous build that may be listed in the refusal message.
_SHOWN = 5

_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".json": "application/json",
    ".png": "image/png",
}


class UnsafeTargetError(ValueError):
    """The publish target is not a place the publisher may write (see the module docstring); nothing was touched."""


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
    override = os.environ.get("MADLAKE_DASHBOARD_URI")
    if override:
        return override.rstrip("/")
    settings = settings or get_settings()
    if settings.profile == "aws":
        return f"{settings.warehouse_uri.rstrip('/')}/dashboard"
    return str(settings.home_dir / "dashboard")


def _files(build_dir: Path) -> list[Path]:
    return sorted(p for p in build_dir.rglob("*") if p.is_file())


# --------------------------------------------------------------------------------------------------------------------
# Where publishing may write
# --------------------------------------------------------------------------------------------------------------------


def allowed_roots(settings: Settings | None = None) -> list[str]:
    """``MADLAKE_DASHBOARD_ROOTS`` (comma-separated), else ``MADLAKE_HOME`` (and the S3 warehouse if there is one)."""
    settings = settings or get_settings()
    env = os.environ.get("MADLAKE_DASHBOARD_ROOTS", "")
    roots = [r.strip() for r in env.split(",") if r.strip()]
    if roots:
        return [r if r.startswith("s3://") else str(_real(r)) for r in roots]
    defaults = [str(settings.home_dir)]
    if settings.warehouse_uri.startswith("s3://"):
        defaults.append(settings.warehouse_uri)
    return defaults


def _real(path: str | Path) -> Path:
    return Path(str(path).removeprefix("file://")).expanduser().resolve()


def _protected_local(settings: Settings) -> list[tuple[str, Path]]:
    places = [("MADLAKE_HOME", settings.home_dir)]
    if settings.warehouse_uri.startswith("file://"):
        places.append(("the warehouse", _real(settings.warehouse_uri)))
    if os.environ.get("AIRFLOW_HOME"):
        places.append(("AIRFLOW_HOME", _real(os.environ["AIRFLOW_HOME"])))
    places.append(("the replay folder", _real(settings.replay_dir)))
    return places


def check_target(target: str, settings: Settings | None = None) -> str:
    """Refuse a target the publisher may not write (see the module docstring); returns the normalized target.

    Raises:
        UnsafeTargetError: naming the target and why it is refused.
    """
    settings = settings or get_settings()
    if target.startswith("s3://"):
        _check_s3_target(target.rstrip("/"), settings)
        return target.rstrip("/")
    path = Path(target.removeprefix("file://")).expanduser()
    if path.is_symlink():
        raise UnsafeTargetError(f"refusing to publish the dashboard to {target}: it is a symbolic link")
    real = path.resolve()
    for what, place in _protected_local(settings):
        if real == place or place.is_relative_to(real):
            raise UnsafeTargetError(
                f"refusing to publish the dashboard to {target}: it is {what} ({place}) or contains it"
            )
        if what in ("the warehouse", "AIRFLOW_HOME") and real.is_relative_to(place):
            raise UnsafeTargetError(f"refusing to publish the dashboard to {target}: it lies inside {what} ({place})")
    roots = [Path(r) for r in allowed_roots(settings) if not r.startswith("s3://")]
    if not any(real != root and real.is_relative_to(root) for root in roots):
        raise UnsafeTargetError(
            f"refusing to publish the dashboard to {target}: it is not inside an allowed root "
            f"({', '.join(map(str, roots)) or 'none'}; set MADLAKE_DASHBOARD_ROOTS to allow another folder)"
        )
    if real.exists():
        if not real.is_dir():
            raise UnsafeTargetError(f"refusing to publish the dashboard to {target}: it is a file, not a folder")
        _previous_build(real, target)
    return str(real)


def _previous_build(folder: Path, target: str) -> list[str]:
    """The files of the previous build in ``folder`` (from its marker); refuses any folder that is not one."""
    present = sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if not p.is_dir() or p.is_symlink())
    if not present:
        return []
    marker = (folder / MARKER).read_bytes() if (folder / MARKER).is_file() else None
    return _check_previous(present, marker, target, place="folder", item="file(s)", advice="; move them away first")


def _check_previous(
    present: list[str], marker: bytes | None, target: str, *, place: str, item: str, advice: str = ""
) -> list[str]:
    """The files a previous build's ``marker`` lists; refuses a non-empty ``place`` that is not one, or that holds
    ``present`` files (``item``: "file(s)", "object(s)") the marker does not list."""
    manifest = _read_marker(marker)
    if manifest is None:
        raise UnsafeTargetError(
            f"refusing to publish the dashboard to {target}: the {place} is not empty and is not a previous dashboard "
            f"build (no valid {MARKER}); it holds e.g. {present[:_SHOWN]}"
        )
    listed = set(manifest)
    unknown = [f for f in present if f != MARKER and f not in listed]
    if unknown:
        raise UnsafeTargetError(
            f"refusing to publish the dashboard to {target}: it holds {len(unknown)} {item} the publisher did not "
            f"write, e.g. {unknown[:_SHOWN]}{advice}"
        )
    return manifest


def _read_marker(data: bytes | None) -> list[str] | None:
    """The file list of a marker, or ``None`` when it is missing or not one the publisher wrote."""
    if data is None:
        return None
    try:
        marker = json.loads(data)
    except (ValueError, UnicodeDecodeError):
        return None
    if not isinstance(marker, dict) or marker.get("publisher") != _PUBLISHER:
        return None
    if not isinstance(marker.get("files"), list):
        return None
    return [f for f in marker["files"] if isinstance(f, str) and _safe_relative(f)]


def _safe_relative(name: str) -> bool:
    pure = PurePosixPath(name)
    return bool(name) and not pure.is_absolute() and ".." not in pure.parts and "\\" not in name and "\0" not in name


def _marker_bytes(files: list[str]) -> bytes:
    body = {"publisher": _PUBLISHER, "published_at": datetime.now(UTC).isoformat(), "files": sorted(files)}
    return json.dumps(body, indent=1).encode("utf-8")


# --------------------------------------------------------------------------------------------------------------------
# Publishing
# --------------------------------------------------------------------------------------------------------------------


def publish_site(build_dir: Path, target: str | None = None, settings: Settings | None = None) -> PublishedSite:
    """Copy the site in ``build_dir`` to ``target`` (default :func:`dashboard_uri`), replacing the previous build.

    Raises:
        UnsafeTargetError: the target is refused (see :func:`check_target`); nothing was written or deleted.
    """
    target = check_target(target or dashboard_uri(settings), settings)
    if target.startswith("s3://"):
        return _publish_s3(build_dir, target, settings)
    return _publish_local(build_dir, Path(target))


def _exchange(a: Path, b: Path) -> bool:
    """Swap two paths atomically (Linux ``renameat2(RENAME_EXCHANGE)``); ``False`` where that is unavailable."""
    try:
        fn = ctypes.CDLL(None, use_errno=True).renameat2
    except (OSError, AttributeError):
        return False
    fn.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    at_fdcwd, rename_exchange = -100, 2
    if fn(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), rename_exchange) == 0:
        return True
    err = ctypes.get_errno()
    if err in (errno.ENOSYS, errno.EINVAL, errno.EOPNOTSUPP):
        return False
    raise OSError(err, os.strerror(err), str(b))


def _remove_build(folder: Path, files: list[str]) -> int:
    """Delete the listed files (and the marker) of a build in ``folder``, then its emptied folders; never more.

    Returns how many files are left behind (ones that appeared since the check); the folder stays if any.
    """
    for name in [*files, MARKER]:
        path = folder / name
        if _safe_relative(name) and (path.is_file() or path.is_symlink()):
            path.unlink(missing_ok=True)
    for sub in sorted((p for p in folder.rglob("*") if p.is_dir() and not p.is_symlink()), reverse=True):
        with contextlib.suppress(OSError):
            sub.rmdir()
    try:
        folder.rmdir()
    except OSError:
        left = [p for p in folder.rglob("*") if p.is_file()]
        log.warning("Left %d file(s) the publisher did not write in %s", len(left), folder)
        return len(left)
    return 0


def _publish_local(build_dir: Path, target: Path) -> PublishedSite:
    files = [p.relative_to(build_dir).as_posix() for p in _files(build_dir)]
    previous = _previous_build(target, str(target)) if target.exists() else []
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.new-", dir=target.parent))  # ours alone
    try:
        for name in files:
            (staging / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(build_dir / name, staging / name)
        (staging / MARKER).write_bytes(_marker_bytes(files))
        if target.exists():
            if not _exchange(staging, target):
                retired = staging.with_name(staging.name.replace(".new-", ".old-"))
                target.rename(retired)
                staging.rename(target)
                staging = retired
        else:
            staging.rename(target)
            staging = target
    except BaseException:
        _remove_build(staging, files)
        raise
    if staging != target:  # it now holds the previous build
        _remove_build(staging, previous)
    size = sum((target / f).stat().st_size for f in files)
    log.info("Published dashboard to %s: %d files, %d bytes", target, len(files), size)
    return PublishedSite(str(target), len(files), size)


def _s3_inside(uri: str, root: str) -> bool:
    root = root.rstrip("/")
    return uri.startswith(root + "/") and uri != root


def _check_s3_target(target: str, settings: Settings) -> None:
    bucket, _, prefix = target.removeprefix("s3://").partition("/")
    if not bucket or not prefix.strip("/"):
        raise UnsafeTargetError(f"refusing to publish the dashboard to {target}: a bucket root, not a prefix in it")
    warehouse = settings.warehouse_uri.rstrip("/")
    if warehouse.startswith("s3://") and (target == warehouse or _s3_inside(warehouse, target)):
        raise UnsafeTargetError(f"refusing to publish the dashboard to {target}: it is the warehouse or contains it")
    roots = [r for r in allowed_roots(settings) if r.startswith("s3://")]
    if not any(_s3_inside(target, root) for root in roots):
        raise UnsafeTargetError(
            f"refusing to publish the dashboard to {target}: it is not inside an allowed root "
            f"({', '.join(roots) or 'none'}; set MADLAKE_DASHBOARD_ROOTS to allow another prefix)"
        )


def _s3_previous_build(s3: pafs.FileSystem, root: str, target: str) -> list[str]:
    """The files the marker under ``root`` lists; refuses a non-empty prefix that is not a previous build."""
    present = sorted(
        info.path.removeprefix(root + "/")
        for info in s3.get_file_info(pafs.FileSelector(root, recursive=True, allow_not_found=True))
        if info.type == pafs.FileType.File
    )
    if not present:
        return []
    data = None
    if MARKER in present:
        with s3.open_input_stream(f"{root}/{MARKER}") as f:
            data = f.read()
    return _check_previous(present, data, target, place="prefix", item="object(s)")


def _publish_s3(build_dir: Path, target: str, settings: Settings | None) -> PublishedSite:
    s3 = filesystem(target, settings)[0]
    root = target.removeprefix("s3://").rstrip("/")
    files = _files(build_dir)
    names = [p.relative_to(build_dir).as_posix() for p in files]
    previous = _s3_previous_build(s3, root, target)

    def put_marker(listed: list[str]) -> None:
        with s3.open_output_stream(f"{root}/{MARKER}", metadata={"Content-Type": "application/json"}) as out:
            out.write(_marker_bytes(listed))

    # First claim every key this publish may leave behind, so an interrupted publish is still a listed build.
    put_marker(sorted(set(previous) | set(names)))
    size = 0
    for i, (path, rel) in enumerate(zip(files, names, strict=True), 1):
        ctype = _TYPES.get(path.suffix) or mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        data = path.read_bytes()
        with s3.open_output_stream(f"{root}/{rel}", metadata={"Content-Type": ctype}) as out:
            out.write(data)
        size += len(data)
        if i % 100 == 0:
            log.info("Uploaded %d/%d dashboard files to s3://%s", i, len(files), root)
    stale = sorted(set(previous) - set(names))
    for rel in stale:
        s3.delete_file(f"{root}/{rel}")
    put_marker(names)
    log.info(
        "Published dashboard to %s: %d files, %d bytes, %d stale files deleted", target, len(files), size, len(stale)
    )
    return PublishedSite(target, len(files), size, deleted=len(stale))
