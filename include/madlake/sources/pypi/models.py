"""The record every PyPI source returns, validated at the boundary (pydantic), and its parsing into good/rejected."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

_PYTHON_MINOR = re.compile(r"^(\d+)\.(\d+)")


def normalize_project(name: str) -> str:
    """PEP 503 normalization: lowercase, runs of ``-_.`` become ``-``."""
    return re.sub(r"[-_.]+", "-", name).lower()


class DownloadRow(BaseModel):
    """One aggregate row: the ``pypi_downloads`` columns. Unknown keys are refused (a schema change at the source).

    Only types and representation are enforced here (a malformed row goes to the dead letters); business rules such
    as ``downloads > 0`` or two-letter country codes are the audit's job, so a bad day fails loudly instead of
    silently shrinking.
    """

    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True)

    download_date: date
    project: str = Field(min_length=1)
    version: str = Field(min_length=1)
    installer: str | None = None
    python_version: str | None = None
    system: str | None = None
    country_code: str | None = None
    ci: bool | None = None
    downloads: int
    source: str | None = None

    @field_validator("project")
    @classmethod
    def _normalize(cls, value: str) -> str:
        return normalize_project(value)

    @field_validator("installer", "system", "country_code", "python_version", mode="before")
    @classmethod
    def _blank_is_null(cls, value: Any) -> Any:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("python_version")
    @classmethod
    def _minor(cls, value: str | None) -> str | None:
        if value is None:
            return None
        m = _PYTHON_MINOR.match(value)
        return f"{m.group(1)}.{m.group(2)}" if m else value

    @field_validator("country_code")
    @classmethod
    def _upper(cls, value: str | None) -> str | None:
        return value.upper() if value is not None else None

    @field_validator("downloads", mode="before")
    @classmethod
    def _integer(cls, value: Any) -> Any:
        # ClickHouse quotes 64-bit integers in JSON; BigQuery's REST API returns INT64 as strings too.
        if isinstance(value, str) and value.strip().lstrip("-").isdigit():
            return int(value)
        if isinstance(value, bool) or (isinstance(value, float) and not value.is_integer()):
            raise ValueError("downloads must be an integer")
        return value


@dataclass(frozen=True)
class FetchResult:
    """What a source returned for one day: raw records plus where they came from."""

    records: Sequence[Any]
    source: str
    origin: str
    bytes_scanned: int | None = None
    details: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ParsedRows:
    rows: list[dict[str, Any]]
    rejections: list[tuple[str, Any, str | None]]  # (reason, raw, record id)


def parse_rows(records: Iterable[Any], day: date, default_source: str) -> ParsedRows:
    """Validate raw records of run day ``day``: good rows as dicts, bad ones as ``(reason, raw, record_id)``.

    A row of another day is rejected (it would escape the day's partition replace and duplicate on rerun).
    """
    good: list[dict[str, Any]] = []
    bad: list[tuple[str, Any, str | None]] = []
    for i, raw in enumerate(records):
        record_id = f"{day.isoformat()}#{i + 1}"
        if isinstance(raw, Unparseable):
            bad.append((raw.reason, raw.text, record_id))
            continue
        if not isinstance(raw, dict):
            bad.append((f"not a JSON object: {type(raw).__name__}", raw, record_id))
            continue
        try:
            row = DownloadRow.model_validate(raw)
        except ValidationError as exc:
            reason = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'row'}: {e['msg']}" for e in exc.errors())
            bad.append((f"invalid download row: {reason}", raw, record_id))
            continue
        if row.download_date != day:
            bad.append((f"download_date {row.download_date} is not the run day {day}", raw, record_id))
            continue
        data = row.model_dump()
        data["source"] = data["source"] or default_source
        good.append(data)
    return ParsedRows(good, bad)


@dataclass(frozen=True)
class Unparseable:
    """A line a replay file could not decode; kept so it reaches the dead letters with its text."""

    reason: str
    text: str
