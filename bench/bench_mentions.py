"""Mention extraction: the Aho-Corasick extractor against a naive per-term regex loop, and its quality.

Rates are texts per CPU-second of this single-threaded process (one core), so other load on a shared machine does
not distort them. Both extractors implement the same matching contract (word boundaries, case rules, requires_context,
exclude, URLs blanked, leftmost-longest) and are run on the same real Reddit texts in this run; the benchmark checks
that they agree before comparing speed. Quality is precision/recall on ``tests/fixtures/mentions/labeled.jsonl``
(see LABELING.md there).
"""

from __future__ import annotations

import json
import re
import time
from pathlib import Path
from typing import Any

from madlake.catalog import load_catalog
from madlake.mentions.extract import MentionExtractor, strip_urls
from madlake.mentions.quality import score

LABELED = Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "mentions" / "labeled.jsonl"
TARGET_SPEEDUP = 150.0
TARGET_RATE = 200_000.0


class NaiveExtractor:
    """The baseline: one compiled regex per alias term, run over every text in a loop (what the seed did)."""

    def __init__(self) -> None:
        self.aliases: list[tuple[str, re.Pattern[str], list[re.Pattern[str]], list[re.Pattern[str]]]] = []
        for tool in load_catalog().tools:
            for a in tool.aliases:
                flags = 0 if a.case_sensitive else re.IGNORECASE
                term = r"\W".join(re.escape(w) for w in a.term.split(" "))
                pattern = re.compile(r"(?<!\w)" + term + r"(?!\w)", flags)
                context = [re.compile(r"(?<!\w)" + re.escape(c) + r"(?!\w)", re.IGNORECASE) for c in a.requires_context]
                exclude = [re.compile(r"(?<!\w)" + re.escape(e) + r"(?!\w)" if e[-1].isalnum() else re.escape(e),
                                      re.IGNORECASE) for e in a.exclude]  # fmt: skip
                self.aliases.append((tool.id, pattern, context, exclude))

    def counts(self, text: str) -> dict[str, int]:
        text = strip_urls(text).replace("\\_", "__")
        found = []
        for tool_id, pattern, context, exclude in self.aliases:
            if context and not any(c.search(text) for c in context):
                continue
            vetoed = [(m.start(), m.end()) for e in exclude for m in e.finditer(text)]
            for m in pattern.finditer(text):
                if not any(s <= m.start() and m.end() <= e for s, e in vetoed):
                    found.append((m.start(), m.end(), tool_id))
        found.sort(key=lambda c: (c[0], c[0] - c[1]))
        out: dict[str, int] = {}
        last_end = -1
        for s, e, tool_id in found:
            if s >= last_end:
                out[tool_id] = out.get(tool_id, 0) + 1
                last_end = e
        return out


def _rate(fn: Any, texts: list[str], min_seconds: float) -> float:
    """Texts per CPU-second of this (single-threaded) process: "per core", unaffected by other load on the box."""
    n = 0
    start = time.process_time()
    while True:
        for t in texts:
            fn(t)
        n += len(texts)
        elapsed = time.process_time() - start
        if elapsed >= min_seconds:
            return n / elapsed


def main() -> None:
    rows = [json.loads(line) for line in LABELED.read_text(encoding="utf-8").splitlines()]
    texts = [r["text"] for r in rows]
    comments = [r["text"] for r in rows if r["id"].startswith("t1_")]
    fast = MentionExtractor.for_catalog()
    naive = NaiveExtractor()

    disagree = [r["id"] for r in rows if fast.counts(r["text"]) != naive.counts(r["text"])]
    print(f"corpus: {len(texts)} real Reddit texts, mean {sum(map(len, texts)) / len(texts):.0f} chars "
          f"({len(comments)} comments, mean {sum(map(len, comments)) / len(comments):.0f} chars)")  # fmt: skip
    print(f"agreement with the naive regex loop: {len(texts) - len(disagree)}/{len(texts)} texts"
          + (f" (differ: {disagree[:5]})" if disagree else ""))  # fmt: skip

    for label, corpus in (("all texts", texts), ("comments", comments)):
        naive_rate = _rate(naive.counts, corpus[:150], 1.5)
        fast_rate = _rate(fast.counts, corpus, 1.5)
        ratio = fast_rate / naive_rate
        speed_ok = "met" if ratio >= TARGET_SPEEDUP else "NOT met"
        rate_ok = "met" if fast_rate >= TARGET_RATE else "NOT met"
        print(f"{label:>10}: aho-corasick {fast_rate:>10,.0f} texts/s/core | "
              f"naive regex loop {naive_rate:>8,.0f} texts/s/core | "
              f"speedup {ratio:,.0f}x (target >= {TARGET_SPEEDUP:.0f}x: {speed_ok}; "
              f"rate target >= {TARGET_RATE:,.0f}/s: {rate_ok})")  # fmt: skip

    result = score(fast, rows)
    print(f"quality on the labeled set: precision {result.precision:.3f}, recall {result.recall:.3f}, "
          f"F1 {result.f1:.3f} (tp={result.tp} fp={result.fp} fn={result.fn}, {result.texts} texts)")  # fmt: skip
    for rid, want, got in result.errors:
        print(f"  {rid}: labeled {want} extracted {got}")


if __name__ == "__main__":
    main()
