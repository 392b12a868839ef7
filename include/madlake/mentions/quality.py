"""Precision and recall of the extractor on a labeled set (used by the tests and ``make bench``)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeAlias

from afinn import Afinn
from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

from madlake.mentions import lexicon
from madlake.mentions.extract import MentionExtractor

#: A sentiment method: ``fn(context, sentence, spans, tool) -> score in [-1, 1]``.
SentimentMethod: TypeAlias = Callable[[str, str, list[tuple[int, int]], str], float]


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


SENTIMENT_CLASSES = ("negative", "neutral", "positive")


def sentiment_class(score: float) -> str:
    """The three-way class of a score in [-1, 1], on the product's bands (neutral is [-0.2, 0.2])."""
    return "negative" if score < -0.2 else "positive" if score > 0.2 else "neutral"


@dataclass(frozen=True)
class Agreement:
    """How a method's classes agree with the labels: accuracy, macro-F1 and Cohen's kappa."""

    n: int
    accuracy: float
    macro_f1: float
    kappa: float


def agreement(labels: list[str], predicted: list[str]) -> Agreement:
    n = len(labels)
    acc = sum(a == b for a, b in zip(labels, predicted, strict=True)) / n
    f1s = []
    for c in SENTIMENT_CLASSES:
        tp = sum(a == c and b == c for a, b in zip(labels, predicted, strict=True))
        fp = sum(a != c and b == c for a, b in zip(labels, predicted, strict=True))
        fn = sum(a == c and b != c for a, b in zip(labels, predicted, strict=True))
        f1s.append(2 * tp / (2 * tp + fp + fn) if tp else 0.0)
    pe = sum((labels.count(c) / n) * (predicted.count(c) / n) for c in SENTIMENT_CLASSES)
    return Agreement(n, acc, sum(f1s) / len(f1s), (acc - pe) / (1 - pe) if pe < 1 else 1.0)


def sentiment_methods() -> dict[str, SentimentMethod]:
    """Offline methods to compare, ``name -> fn(context, sentence, spans, tool) -> score in [-1, 1]``.

    ``product (lexicon)`` is what the pipeline stores (:func:`madlake.mentions.lexicon.assess`: AFINN on the
    sentences holding a mention); ``vader-window`` is the previous product (VADER on the mention's sentence ±1); the
    others score the mention's sentence only. TextBlob is measured when installed (it ships its lexicon inside the
    package; it is not a dependency).
    """
    vader = lexicon._analyzer()
    methods: dict[str, SentimentMethod] = {
        "product (lexicon)": lambda ctx, sent, spans, tool: lexicon.assess(ctx, tool, spans).sentiment_score,
        "vader-window": lambda ctx, sent, spans, tool: _vader_window(vader, ctx, spans),
        "vader-sentence": lambda ctx, sent, spans, tool: vader.polarity_scores(sent)["compound"],
    }
    try:
        from textblob import TextBlob  # noqa: PLC0415 - optional, not a dependency: measured when installed

        methods["textblob-sentence"] = lambda ctx, sent, spans, tool: TextBlob(sent).sentiment.polarity
    except ImportError:
        pass
    af = Afinn()
    methods["afinn-sentence"] = lambda ctx, sent, spans, tool: max(-1.0, min(1.0, af.score(sent) / 5))
    return methods


def _vader_window(vader: SentimentIntensityAnalyzer, ctx: str, spans: list[tuple[int, int]]) -> float:
    bounds = lexicon.sentences(ctx) or [(0, len(ctx))]
    picked: set[int] = set()
    for s, _ in spans:
        i = next((k for k, (a, b) in enumerate(bounds) if a <= s < b), len(bounds) - 1)
        picked.update(k for k in (i - 1, i, i + 1) if 0 <= k < len(bounds))
    return float(vader.polarity_scores(" ".join(ctx[a:b] for a, b in (bounds[k] for k in sorted(picked))))["compound"])


def sentiment_scores(rows: Iterable[Mapping[str, Any]]) -> tuple[list[str], dict[str, list[str]]]:
    """Labels and each method's classes for rows ``{"tool", "label", "context"}`` (see ``sentiment.jsonl``)."""
    extractor = MentionExtractor.for_catalog()
    methods = sentiment_methods()
    labels: list[str] = []
    predicted: dict[str, list[str]] = {name: [] for name in methods}
    for row in rows:
        ctx, tool = row["context"], row["tool"]
        spans = [(s, e) for s, e, t in extractor.find(ctx) if t == tool] or [(0, 0)]
        bounds = lexicon.sentences(ctx) or [(0, len(ctx))]
        a, b = next(((a, b) for a, b in bounds if a <= spans[0][0] < b), bounds[0])
        labels.append(row["label"])
        for name, fn in methods.items():
            predicted[name].append(sentiment_class(float(fn(ctx, ctx[a:b], spans, tool))))
    return labels, predicted


def sentiment_report(rows: list[Mapping[str, Any]]) -> list[str]:
    """Lines for ``make bench``: each offline method's agreement with the labels, and the LLM path's contract."""
    labels, predicted = sentiment_scores(rows)
    counts = {c: labels.count(c) for c in SENTIMENT_CLASSES}
    mix = ", ".join(f"{k} {v}" for k, v in counts.items())
    lines = [f"sentiment: {len(labels)} labeled (text, tool) mentions ({mix}); agreement of each offline method:"]
    for name, pred in {"always neutral": ["neutral"] * len(labels), **predicted}.items():
        a = agreement(labels, pred)
        lines.append(f"  {name:<18} accuracy {a.accuracy:.3f} macro-F1 {a.macro_f1:.3f} kappa {a.kappa:.3f}")
    lines.append(
        "  LLM path (contract, enforced by tests/integration/test_mentions_llm.py against a local fake OpenAI server): "
        "structured output with a per-text JSON schema whose tool_id is an enum of the tools asked; anything else is "
        "rejected to rejected_records and those tools get the lexicon; 429/5xx retried; cached by (text sha256, tool, "
        "prompt version, model); per-run call/token budget, then the lexicon. No live model is called here, so no "
        "agreement figure is claimed for it."
    )
    return lines
