"""Which counting method a snapshot used: the rules of ``methods.yaml`` (the files themselves do not say).

``method_for(snapshot_date, snapshot_id)`` returns the first matching rule; a date no rule covers (before the first
snapshot, 2018-02-07) raises :class:`NoMethodError`, which the parser turns into a dead letter.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import yaml

from madlake.tables.pypi import MONTHLY_METHODS

METHODS_FILE = Path(__file__).with_name("methods.yaml")


class NoMethodError(LookupError):
    """No rule of ``methods.yaml`` covers a snapshot (its counts cannot be interpreted)."""


@dataclass(frozen=True)
class Method:
    """How one snapshot counted: ``method`` (see ``MONTHLY_METHODS``), ``installers`` (pip | all), ``window_days``."""

    method: str
    installers: str
    window_days: int | None


@dataclass(frozen=True)
class Rule:
    method: Method
    start: date | None = None
    until: date | None = None
    snapshot_ids: frozenset[str] = frozenset()

    def matches(self, snapshot_date: date, snapshot_id: str | None) -> bool:
        if self.snapshot_ids:
            return snapshot_id is not None and snapshot_id[:10] in self.snapshot_ids
        if self.start is not None and snapshot_date < self.start:
            return False
        return self.until is None or snapshot_date <= self.until


@dataclass(frozen=True)
class MethodTable:
    version: str
    rules: tuple[Rule, ...]

    def method_for(self, snapshot_date: date, snapshot_id: str | None = None) -> Method:
        """The method of the snapshot of ``snapshot_date`` (commit ``snapshot_id``).

        Raises:
            NoMethodError: no rule covers it.
        """
        for rule in self.rules:
            if rule.matches(snapshot_date, snapshot_id):
                return rule.method
        raise NoMethodError(f"no counting method is known for a snapshot of {snapshot_date} (see {METHODS_FILE.name})")


def _date(value: Any) -> date | None:
    if value is None:
        return None
    return value if isinstance(value, date) else date.fromisoformat(str(value))


def parse_methods(doc: dict[str, Any], origin: str = METHODS_FILE.name) -> MethodTable:
    """Build a :class:`MethodTable` from the YAML document.

    Raises:
        ValueError: a rule names an unknown method/installer or lacks its dates (the message names the rule).
    """
    version = doc.get("method_version")
    if not version:
        raise ValueError(f"{origin}: method_version is missing")
    rules = []
    for n, raw in enumerate(doc.get("rules") or [], start=1):
        method = Method(str(raw["method"]), str(raw["installers"]), raw.get("window_days"))
        if method.method not in MONTHLY_METHODS:
            raise ValueError(f"{origin} rule {n}: method {method.method!r} is not one of {MONTHLY_METHODS}")
        if method.installers not in ("pip", "all"):
            raise ValueError(f"{origin} rule {n}: installers must be pip or all, got {method.installers!r}")
        ids = frozenset(str(s)[:10] for s in raw.get("snapshot_ids") or [])
        if not ids and raw.get("from") is None:
            raise ValueError(f"{origin} rule {n}: needs snapshot_ids or a from date")
        rules.append(Rule(method, _date(raw.get("from")), _date(raw.get("until")), ids))
    if not rules:
        raise ValueError(f"{origin}: no rules")
    return MethodTable(str(version), tuple(rules))


@functools.cache
def load_methods(path: Path = METHODS_FILE) -> MethodTable:
    """The packaged method table (cached)."""
    return parse_methods(yaml.safe_load(path.read_text(encoding="utf-8")), path.name)
