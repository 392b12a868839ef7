"""The Iceberg catalog for the active profile.

* ``local``: a pyiceberg ``SqlCatalog`` on SQLite (``<MADLAKE_HOME>/catalog.db``) with a ``file://`` warehouse under
  ``MADLAKE_HOME``. No server; safe for concurrent writers on one machine (commits are compare-and-swap on the
  metadata pointer, and a losing writer gets ``CommitFailedException``).
* ``aws``: AWS Glue + S3. Credentials come from the standard AWS chain (environment, instance role, or the values an
  Airflow task exports from the ``aws_default`` connection), never from settings.
* ``rest``: any Iceberg REST catalog (the docker-compose stack runs one against MinIO).
"""

from __future__ import annotations

import logging

from pyarrow.fs import FileSystem
from pyiceberg.catalog import Catalog, load_catalog
from pyiceberg.io.pyarrow import PyArrowFileIO
from tenacity import retry as retrying
from tenacity import retry_if_exception, stop_after_attempt, wait_incrementing

from madlake.config import Settings, get_settings

log = logging.getLogger(__name__)

_CACHE: dict[Settings, Catalog] = {}
_FILE_IO: dict[Settings, PyArrowFileIO] = {}


def s3_properties(settings: Settings) -> dict[str, str]:
    """The FileIO properties of S3 storage for ``settings``: region, and the endpoint of a local stand-in if any."""
    props = {"s3.region": settings.aws_region}
    if settings.s3_endpoint:
        props |= {"s3.endpoint": settings.s3_endpoint, "s3.path-style-access": "true"}
    return props


def catalog_properties(settings: Settings) -> dict[str, str]:
    """The pyiceberg properties of the catalog for ``settings`` (no secrets: those come from the environment)."""
    kind = settings.effective_catalog
    if kind == "sql":
        home = settings.home_dir
        home.mkdir(parents=True, exist_ok=True)
        return {"type": "sql", "uri": f"sqlite:///{home / 'catalog.db'}", "warehouse": settings.warehouse_uri}
    props: dict[str, str] = {"warehouse": settings.warehouse_uri, **s3_properties(settings)}
    if kind == "glue":
        props |= {"type": "glue", "glue.region": settings.aws_region}
        if settings.glue_endpoint:
            props["glue.endpoint"] = settings.glue_endpoint
    else:
        props |= {"type": "rest", "uri": settings.rest_uri or ""}
    return props


def _lost_sqlite_bootstrap_race(exc: BaseException) -> bool:
    # Two processes opening a brand-new SQLite catalog race to create its bookkeeping tables; the loser sees
    # "table ... already exists" and simply opens it again.
    return "already exists" in str(exc)


@retrying(
    retry=retry_if_exception(_lost_sqlite_bootstrap_race),
    stop=stop_after_attempt(5),
    wait=wait_incrementing(start=0.1, increment=0.1),
    reraise=True,
)
def _open_sql_catalog(props: dict[str, str]) -> Catalog:
    return load_catalog("madlake", **props)


def get_catalog(settings: Settings | None = None) -> Catalog:
    """Load (once per settings) the catalog of the active profile."""
    settings = settings or get_settings()
    if settings not in _CACHE:
        props = catalog_properties(settings)
        log.info("Opening %s catalog (warehouse %s)", props["type"], props.get("warehouse"))
        opener = _open_sql_catalog if props["type"] == "sql" else lambda p: load_catalog("madlake", **p)
        _CACHE[settings] = opener(props)
    return _CACHE[settings]


def file_io(settings: Settings | None = None) -> PyArrowFileIO:
    """The FileIO of the active profile's storage: the catalog's properties plus S3's (once per settings).

    Everything madlake reads or writes outside Iceberg tables (Reddit landings, GitHub state documents, orphan-file
    listings) goes through it, so an ``s3.endpoint`` (moto, MinIO) is honoured the way pyiceberg honours it for the
    tables. Credentials come from the standard AWS chain, never from settings.
    """
    settings = settings or get_settings()
    if settings not in _FILE_IO:
        _FILE_IO[settings] = PyArrowFileIO({**s3_properties(settings), **catalog_properties(settings)})
    return _FILE_IO[settings]


def filesystem(uri: str, settings: Settings | None = None) -> tuple[FileSystem, str]:
    """``(pyarrow filesystem, path inside it)`` for a ``file://``, ``s3://`` or plain path (``s3://b/k`` -> ``b/k``).

    Raises:
        ValueError: a scheme pyiceberg's FileIO does not know.
    """
    scheme, netloc, path = PyArrowFileIO.parse_location(uri)
    return file_io(settings).fs_by_scheme(scheme, netloc), path


def reset_catalog_cache() -> None:
    """Forget opened catalogs and FileIOs (tests switch ``MADLAKE_HOME`` between cases)."""
    _CACHE.clear()
    _FILE_IO.clear()
