"""The registry of every Iceberg table madlake owns: one module per domain, each exposing ``TABLES``.

To add a table: define its :class:`~madlake.lakehouse.spec.TableSpec` in the domain module, add its name to
:class:`madlake.names.Table`, and (for a new module) list the module in ``_MODULES``. ``madlake lakehouse init``
creates whatever is missing.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from madlake.lakehouse.spec import TableSpec

_MODULES = (
    "madlake.tables.core",
    "madlake.tables.pypi",
    "madlake.tables.reddit",
    "madlake.tables.mentions",
    "madlake.tables.github",
    "madlake.tables.gold",
    "madlake.tables.ops",
    "madlake.tables.events",
)


def all_specs() -> dict[str, TableSpec]:
    """Every table spec by name, in registry order."""
    specs: dict[str, TableSpec] = {}
    for module_name in _MODULES:
        module = importlib.import_module(module_name)
        for spec in module.TABLES:
            if spec.name in specs:
                raise ValueError(f"table {spec.name!r} is defined twice (again in {module_name})")
            specs[spec.name] = spec
    return specs


def get_spec(name: str) -> TableSpec:
    """The spec of table ``name``; ``KeyError`` names the unknown table and lists the known ones."""
    specs = all_specs()
    if name not in specs:
        raise KeyError(f"unknown table {name!r}; known tables: {', '.join(sorted(specs))}")
    return specs[name]
