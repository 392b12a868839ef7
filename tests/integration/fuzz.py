"""The fuzz harness: ≥ 1,000 generated malformed records thrown at every source through its real load path.

A source registers itself with :func:`fuzz_source`, naming how its records are damaged (``required`` keys and
``typed`` fields, as :func:`tests.fixtures.malformed.malformed_records` takes them) and giving one function::

    @fuzz_source("pypi_monthly", required=[...], typed={...})
    def run(case: FuzzCase) -> FuzzOutcome: ...

``run`` builds the source's input from genuine records (``case.good_records(...)`` is up to it) plus the malformed
``case.bad`` ones, loads it through the production code (replay files or a local stand-in server, never a mock), and
reports what the lakehouse holds: the good records loaded (and how many were expected, from a clean run of the same
genuine input) and the dead letters. :func:`check` is the verdict the test asserts: the run did not crash, every bad
record is in ``rejected_records`` with a non-empty reason, every good record is loaded.

Adding a source is a few lines: a registration in ``test_reliability_fuzz.py`` that writes its files and calls its
load function.
"""

from __future__ import annotations

import traceback
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.fixtures.malformed import Malformed, distinct, malformed_records

N_BAD = 1000


@dataclass(frozen=True)
class FuzzOutcome:
    """What one fuzzed load left behind."""

    bad_sent: int  # malformed records the source was given (distinct ones, when the source de-duplicates)
    dead_letters: Sequence[Mapping[str, Any]]  # this run's rejected_records rows caused by the bad records
    good_loaded: int
    good_expected: int
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class FuzzCase:
    """The inputs handed to a source's ``run``: a scratch folder, the generator settings, and ``make_bad``."""

    name: str
    tmp: Path
    required: Sequence[str]
    typed: Mapping[str, str]
    n: int
    seed: int
    id_field: str | None

    def make_bad(self, good: Mapping[str, Any]) -> list[Malformed]:
        """``n`` malformed variants of one genuine record of the source."""
        return malformed_records(
            good, required=self.required, typed=self.typed, n=self.n, seed=self.seed, id_field=self.id_field
        )


@dataclass(frozen=True)
class FuzzSource:
    name: str
    run: Callable[[FuzzCase], FuzzOutcome]
    required: Sequence[str]
    typed: Mapping[str, str]
    n: int = N_BAD
    seed: int = 0
    id_field: str | None = None


#: Every registered source, by name (registration order).
SOURCES: dict[str, FuzzSource] = {}


def fuzz_source(
    name: str,
    *,
    required: Sequence[str],
    typed: Mapping[str, str],
    n: int = N_BAD,
    seed: int = 0,
    id_field: str | None = None,
) -> Callable[[Callable[[FuzzCase], FuzzOutcome]], Callable[[FuzzCase], FuzzOutcome]]:
    """Register ``run`` as the fuzz entry of source ``name`` (see the module docstring)."""

    def register(run: Callable[[FuzzCase], FuzzOutcome]) -> Callable[[FuzzCase], FuzzOutcome]:
        if name in SOURCES:
            raise ValueError(f"fuzz source {name!r} registered twice")
        SOURCES[name] = FuzzSource(name, run, tuple(required), dict(typed), n, seed, id_field)
        return run

    return register


@dataclass(frozen=True)
class Verdict:
    source: str
    crashed: str | None
    outcome: FuzzOutcome | None

    @property
    def problems(self) -> list[str]:
        if self.crashed is not None:
            return [f"crashed: {self.crashed}"]
        o = self.outcome
        assert o is not None
        out = []
        if o.bad_sent < N_BAD:
            out.append(f"only {o.bad_sent} malformed records were sent (< {N_BAD})")
        if len(o.dead_letters) < o.bad_sent:
            out.append(f"{o.bad_sent - len(o.dead_letters)} of {o.bad_sent} bad records are not in rejected_records")
        missing_reason = [d for d in o.dead_letters if not str(d.get("reason") or "").strip()]
        if missing_reason:
            out.append(f"{len(missing_reason)} dead letter(s) without a reason")
        if o.good_loaded != o.good_expected:
            out.append(f"{o.good_loaded} good records loaded, {o.good_expected} expected")
        return out

    def figures(self) -> dict[str, Any]:
        if self.outcome is None:
            return {"crashed": 1, "error": self.crashed}
        o = self.outcome
        return {
            "malformed_sent": o.bad_sent,
            "dead_letters": len(o.dead_letters),
            "without_reason": sum(1 for d in o.dead_letters if not str(d.get("reason") or "").strip()),
            "good_loaded": o.good_loaded,
            "good_expected": o.good_expected,
            "crashed": 0,
            **o.extra,
        }


def check(source: FuzzSource, tmp: Path) -> Verdict:
    """Run one registered source and judge it (an exception is a crashed run, reported with its last lines)."""
    case = FuzzCase(source.name, tmp, source.required, source.typed, source.n, source.seed, source.id_field)
    try:
        outcome = source.run(case)
    except Exception as exc:  # the verdict: a crash is what the fuzz test exists to catch
        tail = "".join(traceback.format_exception(exc)[-3:]).strip()
        return Verdict(source.name, f"{type(exc).__name__}: {exc} | {tail[-600:]}", None)
    return Verdict(source.name, None, outcome)


__all__ = ["N_BAD", "SOURCES", "FuzzCase", "FuzzOutcome", "check", "distinct", "fuzz_source"]
