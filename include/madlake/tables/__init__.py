"""The registry of every Iceberg table madlake owns: one module per domain, each exposing ``TABLES``.

To add a table: define its :class:`~madlake.tables.spec.TableSpec` in the domain module, add its name to
:class:`madlake.names.Table`, and (for a new module) import the module here and list it in ``DOMAINS``.
``madlake lakehouse init`` creates whatever is missing.

Dependencies go one way: :mod:`madlake.lakehouse` (catalogs, creating and opening tables, writes) imports this
registry; the registry imports nothing from the lakehouse layer.
"""

from __future__ import annotations

from types import ModuleType

from madlake.tables import core, events, github, gold, mentions, ops, pypi, reddit
from madlake.tables.spec import TableSpec

#: The domain modules, in registry order (the order ``madlake lakehouse init`` creates tables in).
DOMAINS: tuple[ModuleType, ...] = (core, pypi, reddit, mentions, github, gold, ops, events)


def all_specs() -> dict[str, TableSpec]:
    """Every table spec by name, in registry order."""
    specs: dict[str, TableSpec] = {}
    for module in DOMAINS:
        for spec in module.TABLES:
            if spec.name in specs:
                raise ValueError(f"table {spec.name!r} is defined twice (again in {module.__name__})")
            specs[spec.name] = spec
    return specs


def get_spec(name: str) -> TableSpec:
    """The spec of table ``name``; ``KeyError`` names the unknown table and lists the known ones."""
    specs = all_specs()
    if name not in specs:
        raise KeyError(f"unknown table {name!r}; known tables: {', '.join(sorted(specs))}")
    return specs[name]
