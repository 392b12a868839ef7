"""Precision and recall of the extractor on a labeled set (used by the tests and ``make bench``)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from madlake.mentions.extract import MentionExtractor


@dataclass(frozen=True)
class Score:
    """Micro-averaged over (text, tool) mention counts.

    A predicted count above the label is that many false positives; below it, that many false negatives.
    """

    tp: int
    fp: int
    fn: int
    texts: int
    errors: list[tuple[str, dict[str, int], dict[str, int]]] = field(default_factory=list, repr=False)

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0


def score(extractor: MentionExtractor, rows: Iterable[Mapping[str, Any]]) -> Score:
    """Score ``extractor`` on rows ``{"id", "text", "expected": {tool_id: count}}``."""
    tp = fp = fn = n = 0
    errors = []
    for row in rows:
        n += 1
        got = extractor.counts(row["text"])
        want: dict[str, int] = dict(row["expected"])
        for tool in set(got) | set(want):
            g, w = got.get(tool, 0), want.get(tool, 0)
            tp += min(g, w)
            fp += max(0, g - w)
            fn += max(0, w - g)
        if got != want:
            errors.append((str(row.get("id")), want, got))
    return Score(tp, fp, fn, n, errors)
