"""Unreferenced-file removal only ever deletes unreferenced files in the table's own ``data/`` and ``metadata/``
folders (issue #13, item 1: "same rule for every other place the code deletes files").

Each test plants what a careless or hostile setup would put in reach of the cleaner (a table whose location is the
warehouse root, two tables sharing a folder, a user's file beside the Iceberg folders, a symbolic link out of the
table) and checks that it survives, while a genuine orphan is still removed.
"""

from __future__ import annotations

import os
import time
from datetime import date
from pathlib import Path

import pyarrow as pa
import pytest
from madlake.lakehouse import writes
from madlake.ops import maintenance as m

from tests.unit.test_maintenance import CTX, NOW_POLICY, SPEC, append

OLD = time.time() - 10 * 3600


def _old_file(path: Path, data: bytes = b"x" * 100) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    os.utime(path, (OLD, OLD))
    return path


def _create(name: str, location: str | None = None):
    from madlake.config import get_settings
    from madlake.lakehouse.catalog import get_catalog
    from madlake.lakehouse.tables import ensure_table

    if location is None:
        return ensure_table(SPEC.__class__(**{**SPEC.__dict__, "name": name}))
    catalog = get_catalog()
    ns = get_settings().namespace
    if ns not in {n[0] for n in catalog.list_namespaces()}:
        catalog.create_namespace(ns)
    return catalog.create_table(f"{ns}.{name}", SPEC.schema, location=location)


def _report(table) -> m.TableReport:
    return m.TableReport(table=".".join(table.name()))


def test_only_unreferenced_files_in_data_and_metadata_are_deleted(lakehouse: Path, tmp_path: Path) -> None:
    table = _create("events")
    append(table, date(2024, 1, 1), ["a", "b"])
    root = Path(table.location().removeprefix("file://"))
    orphan = _old_file(root / "data" / "day=2024-01-01" / "00000-killed-writer.parquet")
    notes = _old_file(root / "README.txt", b"the owner's notes")
    elsewhere = _old_file(tmp_path / "outside" / "precious.parquet", b"not the table's")
    (root / "data" / "link.parquet").symlink_to(elsewhere)
    before_refs = m.referenced_files(table)

    deleted = m.remove_unreferenced_files(table, NOW_POLICY, _report(table))

    assert deleted == [str(orphan)]
    assert notes.read_bytes() == b"the owner's notes"
    assert elsewhere.read_bytes() == b"not the table's" and (root / "data" / "link.parquet").is_symlink()
    assert not set(deleted) & before_refs
    assert m.referenced_files(table) == before_refs
    assert table.scan().to_arrow().num_rows == 2


def test_a_table_located_at_the_warehouse_root_deletes_nothing(lakehouse: Path) -> None:
    from madlake.config import get_settings

    neighbour = _create("neighbour")
    append(neighbour, date(2024, 1, 1), ["n"])
    warehouse = get_settings().warehouse_uri
    squatter = _create("squatter", location=warehouse)
    append(squatter, date(2024, 1, 1), ["s"])
    landing = _old_file(Path(warehouse.removeprefix("file://")) / "raw" / "reddit" / "2024-01-01" / "part.jsonl.gz")
    files_before = {p for p in Path(warehouse.removeprefix("file://")).rglob("*") if p.is_file()}

    with pytest.raises(m.UnsafeLocationError, match="warehouse root"):
        m.remove_unreferenced_files(squatter, NOW_POLICY, _report(squatter))
    with pytest.raises(RuntimeError, match="squatter"):
        m.maintain(["squatter"], NOW_POLICY, CTX)

    assert landing.exists()
    assert {p for p in Path(warehouse.removeprefix("file://")).rglob("*") if p.is_file()} >= files_before
    assert neighbour.scan().to_arrow().num_rows == 1


def test_two_tables_sharing_a_location_delete_nothing(lakehouse: Path) -> None:
    first = _create("first")
    append(first, date(2024, 1, 1), ["a"])
    second = _create("second", location=first.location())
    append(second, date(2024, 1, 1), ["b"])
    with pytest.raises(m.UnsafeLocationError, match="another table"):
        m.remove_unreferenced_files(second, NOW_POLICY, _report(second))
    assert first.scan().to_arrow().num_rows == 1 and second.scan().to_arrow().num_rows == 1


def test_a_table_nested_inside_another_is_refused_and_keeps_its_files(lakehouse: Path) -> None:
    outer = _create("outer")
    append(outer, date(2024, 1, 1), ["a"])
    inner = _create("inner", location=outer.location() + "/data/inner")
    inner.append(writes.conform(inner, pa.table({"day": [date(2024, 1, 2)], "key": ["b"], "value": [1]})))
    inner_files = {p for p in Path(inner.location().removeprefix("file://")).rglob("*") if p.is_file()}
    for p in inner_files:
        os.utime(p, (OLD, OLD))

    with pytest.raises(m.UnsafeLocationError, match="another table"):
        m.remove_unreferenced_files(outer, NOW_POLICY, _report(outer))

    assert all(p.exists() for p in inner_files)
    assert inner.scan().to_arrow().num_rows == 1


def test_deletable_refuses_paths_outside_the_iceberg_folders() -> None:
    root = "/lake/warehouse/madlake.db/t"
    assert m.deletable(f"{root}/data/x.parquet", root, set(), local=False)
    assert m.deletable(f"{root}/metadata/00001.metadata.json", root, set(), local=False)
    assert not m.deletable(f"{root}/data/x.parquet", root, {f"{root}/data/x.parquet"}, local=False)
    assert not m.deletable(f"{root}/notes.txt", root, set(), local=False)
    assert not m.deletable(f"{root}/data/../../other/data/x.parquet", root, set(), local=False)
    assert not m.deletable(f"{root}2/data/x.parquet", root, set(), local=False)
