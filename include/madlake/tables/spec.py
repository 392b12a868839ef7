"""Table definitions as code: an Iceberg schema with explicit field ids, a partition spec, a sort order, a key."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

from pyiceberg.partitioning import PartitionField, PartitionSpec
from pyiceberg.schema import Schema
from pyiceberg.table.sorting import SortField, SortOrder
from pyiceberg.transforms import DayTransform, IdentityTransform, MonthTransform, Transform, YearTransform

TransformName = Literal["identity", "day", "month", "year"]

_TRANSFORMS: dict[str, type[Transform]] = {
    "identity": IdentityTransform,
    "day": DayTransform,
    "month": MonthTransform,
    "year": YearTransform,
}


@dataclass(frozen=True)
class TableSpec:
    """One Iceberg table: what it holds, how it is laid out, and which columns identify a row.

    Attributes:
        name: the table name inside the madlake namespace (from :class:`madlake.names.Table`).
        schema: the Iceberg schema, with explicit field ids and required flags.
        partition: ``(source column, transform)`` pairs, e.g. ``[("download_date", "day")]``.
        sort: columns the writer should cluster by (ascending).
        key: the columns that identify a row (unique); used by merges, audits and the idempotence tests.
        doc: one paragraph for the README and the table's ``comment`` property.
    """

    name: str
    schema: Schema
    partition: Sequence[tuple[str, TransformName]] = ()
    sort: Sequence[str] = ()
    key: Sequence[str] = ()
    doc: str = ""
    properties: dict[str, str] = field(default_factory=dict)

    def partition_spec(self) -> PartitionSpec:
        fields = []
        for i, (column, transform) in enumerate(self.partition):
            source = self.schema.find_field(column)
            name = column if transform == "identity" else f"{column}_{transform}"
            fields.append(
                PartitionField(
                    source_id=source.field_id, field_id=1000 + i, transform=_TRANSFORMS[transform](), name=name
                )
            )
        return PartitionSpec(*fields)

    def sort_order(self) -> SortOrder:
        if not self.sort:
            return SortOrder()
        return SortOrder(
            *[SortField(source_id=self.schema.find_field(c).field_id, transform=IdentityTransform()) for c in self.sort]
        )

    def table_properties(self) -> dict[str, str]:
        props = {"comment": self.doc, "write.parquet.compression-codec": "zstd"}
        props.update(self.properties)
        return props
