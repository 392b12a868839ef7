"""Load, export and tabulate the tracked-tools catalog.

Importing this module is cheap: pyarrow and pyiceberg are imported inside the functions that need them, and
``DIM_TOOLS_SCHEMA`` is built on first access (module ``__getattr__``), so DAG files may import ``load_catalog``.
"""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import yaml
from pydantic import ValidationError

from madlake.catalog.models import ToolCatalog

if TYPE_CHECKING:
    import pyarrow as pa
    from pyiceberg.schema import Schema

DEFAULT_CATALOG_PATH = Path(__file__).with_name("tools.yaml")

CSV_COLUMNS = (
    "id",
    "name",
    "categories",
    "aliases",
    "pypi",
    "github",
    "npm",
    "homepage",
    "open_source",
    "github_renamed",
)
CSV_LIST_SEPARATOR = "|"


class CatalogError(ValueError):
    """The catalog file cannot be read, is not valid YAML or breaks a catalog rule; the message starts with its path."""


def load_catalog(path: str | Path | None = None) -> ToolCatalog:
    """Load and validate a catalog file; without a path, the bundled ``tools.yaml``.

    The bundled catalog is parsed once per process (it is immutable and DAG tasks call this repeatedly); an explicit
    path is read afresh on every call.

    Raises:
        CatalogError: unreadable file, invalid YAML (including a key repeated in one mapping) or a validation error;
            the message starts with the file path and names the offending tool id, entry or term.
    """
    if path is None:
        return _load_default()
    return _load(Path(path))


@lru_cache(maxsize=1)
def _load_default() -> ToolCatalog:
    return _load(DEFAULT_CATALOG_PATH)


def _load(path: Path) -> ToolCatalog:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise CatalogError(f"{path}: cannot read catalog: {exc}") from exc
    try:
        raw = yaml.load(text, Loader=_UniqueKeyLoader)  # noqa: S506 - a safe loader subclass
    except yaml.YAMLError as exc:
        raise CatalogError(f"{path}: invalid YAML: {exc}") from exc
    if not isinstance(raw, dict):
        raise CatalogError(f"{path}: expected a mapping with 'categories' and 'tools', got {type(raw).__name__}")
    try:
        return ToolCatalog.model_validate(raw)
    except ValidationError as exc:
        raise CatalogError(f"{path}: invalid catalog:\n{_describe(exc, raw)}") from exc


# The C parser when libyaml is available (several times faster); the safe constructor either way.
if TYPE_CHECKING:
    _SafeLoader = yaml.SafeLoader
else:
    _SafeLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _UniqueKeyLoader(_SafeLoader):
    """Safe loader that rejects a key repeated within one mapping (PyYAML silently keeps the last one)."""


def _construct_unique_mapping(loader: yaml.SafeLoader, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
    seen: set[Any] = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if key in seen:
            raise yaml.constructor.ConstructorError(
                "while constructing a mapping", node.start_mark, f"found duplicate key {key!r}", key_node.start_mark
            )
        seen.add(key)
    return loader.construct_mapping(node, deep=deep)


_UniqueKeyLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_unique_mapping)


def _describe(exc: ValidationError, raw: dict[str, Any]) -> str:
    """One line per error, locating tool entries by index and, when the entry has one, by id."""
    lines = []
    tools = raw.get("tools")
    for error in exc.errors():
        loc = list(error["loc"])
        where = ".".join(str(part) for part in loc) or "<root>"
        if len(loc) >= 2 and loc[0] == "tools" and isinstance(loc[1], int):
            entry = tools[loc[1]] if isinstance(tools, list) and loc[1] < len(tools) else None
            tool_id = entry.get("id") if isinstance(entry, dict) else None
            rest = ".".join(str(part) for part in loc[2:])
            where = f"tools[{loc[1]}] (id={tool_id!r})" + (f".{rest}" if rest else "")
        message = str(error["msg"]).removeprefix("Value error, ")
        lines.append(f"  {where}: {message}")
    return "\n".join(lines)


def catalog_records(catalog: ToolCatalog) -> list[dict[str, Any]]:
    """One JSON-ready dict per tool, keys in ``CSV_COLUMNS`` order, aliases as dicts with all their fields."""
    return [tool.model_dump(mode="json") for tool in catalog.tools]


def export_catalog(catalog: ToolCatalog, fmt: Literal["json", "csv"]) -> str:
    """Render the catalog as a JSON array of ``catalog_records`` or as CSV.

    CSV has the header ``CSV_COLUMNS``; list fields are joined with ``|`` (aliases by their term only), a missing
    homepage is empty and ``open_source`` is ``true``/``false``.

    Raises:
        ValueError: an unknown format.
    """
    records = catalog_records(catalog)
    if fmt == "json":
        return json.dumps(records, indent=2, ensure_ascii=False) + "\n"
    if fmt == "csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(CSV_COLUMNS)
        for record in records:
            writer.writerow(
                [
                    record["id"],
                    record["name"],
                    CSV_LIST_SEPARATOR.join(record["categories"]),
                    CSV_LIST_SEPARATOR.join(alias["term"] for alias in record["aliases"]),
                    CSV_LIST_SEPARATOR.join(record["pypi"]),
                    CSV_LIST_SEPARATOR.join(record["github"]),
                    CSV_LIST_SEPARATOR.join(record["npm"]),
                    record["homepage"] or "",
                    "true" if record["open_source"] else "false",
                    CSV_LIST_SEPARATOR.join(record["github_renamed"]),
                ]
            )
        return buffer.getvalue()
    raise ValueError(f"unknown export format {fmt!r}: expected 'json' or 'csv'")


@lru_cache(maxsize=1)
def dim_tools_schema() -> Schema:
    """The Iceberg schema of ``dim_tools``: one row per tracked tool, keyed (identifier field) on ``tool_id``.

    Field ids are explicit and stable: never renumber them, only append. They are exactly the ids pyiceberg's
    ``create_table`` assigns afresh (top-level fields 1-11, then list elements 12-16), so the table created from this
    schema and the arrow data built by ``dim_tools_arrow`` agree on every id. List columns are never null (an empty
    list means "none known") and their elements are required.
    """
    from pyiceberg.schema import Schema
    from pyiceberg.types import BooleanType, ListType, NestedField, StringType, TimestamptzType

    def string_list(element_id: int) -> ListType:
        return ListType(element_id=element_id, element_type=StringType(), element_required=True)

    return Schema(
        NestedField(1, "tool_id", StringType(), required=True),
        NestedField(2, "name", StringType(), required=True),
        NestedField(3, "categories", string_list(12), required=True),
        NestedField(4, "primary_category", StringType(), required=True),
        NestedField(5, "aliases", string_list(13), required=True),
        NestedField(6, "pypi_packages", string_list(14), required=True),
        NestedField(7, "github_repos", string_list(15), required=True),
        NestedField(8, "npm_packages", string_list(16), required=True),
        NestedField(9, "homepage", StringType(), required=False),
        NestedField(10, "open_source", BooleanType(), required=True),
        NestedField(11, "loaded_at", TimestamptzType(), required=True),
        identifier_field_ids=[1],
    )


def dim_tools_arrow(catalog: ToolCatalog, loaded_at: datetime) -> pa.Table:
    """Build the ``dim_tools`` rows, typed exactly as ``DIM_TOOLS_SCHEMA.as_arrow()`` (pyiceberg checks nullability).

    Args:
        catalog: the catalog to tabulate, one row per tool in catalog order.
        loaded_at: when this snapshot of the catalog was loaded; must be timezone-aware (stored in UTC).

    Raises:
        ValueError: ``loaded_at`` is naive.
    """
    import pyarrow as pa

    if loaded_at.tzinfo is None or loaded_at.utcoffset() is None:
        raise ValueError(f"loaded_at must be timezone-aware, got naive {loaded_at.isoformat()}")
    loaded_at_utc = loaded_at.astimezone(UTC)
    rows = [
        {
            "tool_id": tool.id,
            "name": tool.name,
            "categories": list(tool.categories),
            "primary_category": tool.primary_category,
            "aliases": [alias.term for alias in tool.aliases],
            "pypi_packages": list(tool.pypi),
            "github_repos": list(tool.github),
            "npm_packages": list(tool.npm),
            "homepage": tool.homepage,
            "open_source": tool.open_source,
            "loaded_at": loaded_at_utc,
        }
        for tool in catalog.tools
    ]
    return pa.Table.from_pylist(rows, schema=dim_tools_schema().as_arrow())


def __getattr__(name: str) -> Any:
    # PEP 562: build the pyiceberg schema only when someone asks for it.
    if name == "DIM_TOOLS_SCHEMA":
        return dim_tools_schema()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
