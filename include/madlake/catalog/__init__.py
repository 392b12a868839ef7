"""The tracked-tools catalog: the single source of truth of which MAD-landscape tools madlake measures.

The data lives in ``tools.yaml`` beside this file; ``load_catalog()`` validates and returns it. Importing this package
does not import pyarrow or pyiceberg: ``DIM_TOOLS_SCHEMA`` is resolved on first access.
"""

from __future__ import annotations

from typing import Any

from madlake.catalog.io import (
    DEFAULT_CATALOG_PATH,
    CatalogError,
    catalog_records,
    dim_tools_arrow,
    dim_tools_schema,
    export_catalog,
    load_catalog,
)
from madlake.catalog.models import Alias, Tool, ToolCatalog, normalize_pypi_name

__all__ = [
    "DEFAULT_CATALOG_PATH",
    "DIM_TOOLS_SCHEMA",
    "Alias",
    "CatalogError",
    "Tool",
    "ToolCatalog",
    "catalog_records",
    "dim_tools_arrow",
    "dim_tools_schema",
    "export_catalog",
    "load_catalog",
    "normalize_pypi_name",
]


def __getattr__(name: str) -> Any:
    # PEP 562: keep `import madlake.catalog` free of pyiceberg; build the schema on first access.
    if name == "DIM_TOOLS_SCHEMA":
        return dim_tools_schema()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
