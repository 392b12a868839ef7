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
import time
from typing import TYPE_CHECKING

from madlake.config import Settings, get_settings

if TYPE_CHECKING:
    from pyiceberg.catalog import Catalog

log = logging.getLogger(__name__)

_CACHE: dict[Settings, Catalog] = {}


def catalog_properties(settings: Settings) -> dict[str, str]:
    """The pyiceberg properties of the catalog for ``settings`` (no secrets: those come from the environment)."""
    kind = settings.effective_catalog
    if kind == "sql":
        home = settings.home_dir
        home.mkdir(parents=True, exist_ok=True)
        return {"type": "sql", "uri": f"sqlite:///{home / 'catalog.db'}", "warehouse": settings.warehouse_uri}
    props: dict[str, str] = {"warehouse": settings.warehouse_uri, "s3.region": settings.aws_region}
    if settings.s3_endpoint:
        props |= {"s3.endpoint": settings.s3_endpoint, "s3.path-style-access": "true"}
    if kind == "glue":
        props |= {"type": "glue", "glue.region": settings.aws_region}
        if settings.glue_endpoint:
            props["glue.endpoint"] = settings.glue_endpoint
    else:
        props |= {"type": "rest", "uri": settings.rest_uri or ""}
    return props


def get_catalog(settings: Settings | None = None) -> Catalog:
    """Load (once per settings) the catalog of the active profile."""
    from pyiceberg.catalog import load_catalog

    settings = settings or get_settings()
    if settings not in _CACHE:
        props = catalog_properties(settings)
        log.info("Opening %s catalog (warehouse %s)", props["type"], props.get("warehouse"))
        for attempt in range(5):
            try:
                _CACHE[settings] = load_catalog("madlake", **props)
                break
            except Exception as exc:
                # Two processes opening a brand-new SQLite catalog race to create its bookkeeping tables; the loser
                # sees "table ... already exists" and simply opens it again.
                if props["type"] != "sql" or "already exists" not in str(exc) or attempt == 4:
                    raise
                time.sleep(0.1 * (attempt + 1))
    return _CACHE[settings]


def reset_catalog_cache() -> None:
    """Forget opened catalogs (tests switch ``MADLAKE_HOME`` between cases)."""
    _CACHE.clear()
