"""Which tracked tools a text mentions, and how often: one Aho-Corasick pass driven by the tools catalog.

How it works (and why it is fast):

* Every alias term and every ``requires_context`` word of the catalog is normalised the same way as the text
  (lowercased; ASCII and common Unicode punctuation turned into spaces, length-preserving) and padded with a space on
  each side that starts/ends with a word character. Searching the padded, normalised text for these keys in one
  Aho-Corasick pass therefore only reports occurrences that sit on word boundaries: "spark" inside "sparkling" or
  "ray" inside "array" never reach Python.
* Each hit is then checked against the original text: the exact spelling for case-sensitive terms ("Spark", not
  "spark joy"), the exact punctuation for terms that have some ("llama.cpp", "W&B"; a space in a term matches any
  separator: "LM Studio" finds "LM-Studio"), the ``exclude`` phrases around
  it ("snowflake schema", "the DGX Spark", "presto!") and, after the pass, whether one of its ``requires_context``
  words occurs anywhere in the text ("ADF" only next to "Azure").
* URLs are blanked out first: a link to ``huggingface.co`` or ``github.com/vllm-project/vllm`` is not a mention.
* Overlapping accepted hits resolve leftmost-longest: "Apache Spark" counts Spark once, "Hugging Face Transformers"
  counts Transformers and not the Hub.

The matching contract itself is documented in :mod:`madlake.catalog.models`; this module implements it.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from madlake.catalog.models import ToolCatalog

log = logging.getLogger(__name__)

#: Separators (everything but letters, digits and underscore, as ``\w``): ASCII ones go through one bytes
#: ``translate`` (C speed, ~1 ns/char); the few common Unicode ones (quotes, dashes, nbsp) are replaced when present.
_ASCII_SEPARATORS = "".join(chr(c) for c in range(128) if not (chr(c).isalnum() or chr(c) == "_"))
_UNICODE_SEPARATORS = (
    "\u00a0\u2018\u2019\u201a\u201b\u201c\u201d\u201e\u2013\u2014\u2015\u2026\u2022\u00b7\u2212\u00ab\u00bb"
    "\u2122\u00ae\u00a9\u3000\u200b\ufeff"
)
_EMPTY: frozenset[int] = frozenset()
_BYTES_TABLE = bytes.maketrans(_ASCII_SEPARATORS.encode(), b" " * len(_ASCII_SEPARATORS))
_UNICODE_SEPARATOR_RE = re.compile("[" + _UNICODE_SEPARATORS + "]")


def normalize(text: str) -> str:
    """Lowercase ``text`` and turn separators into spaces, keeping its length (offsets map 1:1 to the original)."""
    lowered = text.lower()
    if text.isascii():
        return lowered.encode("ascii").translate(_BYTES_TABLE).decode("ascii")
    if len(lowered) != len(text):  # a few characters lowercase to two ("İ"): lower them one by one instead
        lowered = "".join(ch if len(low := ch.lower()) != 1 else low for ch in text)
    # ASCII bytes stay ASCII under the table, so UTF-8 sequences (and the character count) are untouched.
    try:
        errors = "strict"  # the fast codec path
        data = lowered.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate (broken input): keep it, one character for one
        errors = "surrogatepass"
        data = lowered.encode("utf-8", errors)
    return _UNICODE_SEPARATOR_RE.sub(" ", data.translate(_BYTES_TABLE).decode("utf-8", errors))


def _is_word_char(ch: str) -> bool:
    return ch.isalnum() or ch == "_"


def _same_but_separators(raw: str, term: str) -> bool:
    """``raw`` spells ``term`` exactly, except that any separator may stand where ``term`` has a space."""
    return len(raw) == len(term) and all(b in (a, " ") for a, b in zip(raw, term, strict=True))


_NON_SPACE_RUN = re.compile(r"\S+")
_SCHEME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+.-")


def strip_urls(text: str) -> str:
    """Blank out URLs (``scheme://...`` and ``www....`` up to the next whitespace), keeping the text's length.

    URLs are links, not people naming a tool: "huggingface.co/..." or "github.com/vllm-project/vllm" do not count.
    Scans with ``str.find`` rather than a regex (a regex costs ~40 us on a Reddit post with links; this ~2 us).
    """
    spans: list[tuple[int, int]] = []
    i = text.find("://")
    while i >= 0:
        start = i
        while start > 0 and text[start - 1] in _SCHEME_CHARS:
            start -= 1
        m = _NON_SPACE_RUN.match(text, i)
        end = m.end() if m else i + 3
        if start < i:
            spans.append((start, end))
        i = text.find("://", end)
    i = text.find("www.")
    while i >= 0:
        m = _NON_SPACE_RUN.match(text, i)
        end = m.end() if m else i + 4
        if i == 0 or not (_is_word_char(text[i - 1]) or text[i - 1] == "/"):
            spans.append((i, end))
        i = text.find("www.", end)
    if not spans:
        return text
    spans.sort()
    parts = []
    pos = 0
    for span_start, end in spans:
        start = max(span_start, pos)
        if end <= start:
            continue
        parts.append(text[pos:start])
        parts.append(" " * (end - start))
        pos = end
    parts.append(text[pos:])
    return "".join(parts)


def _padded_key(term: str) -> tuple[str, int]:
    """The automaton key of ``term`` and how many padding characters precede the term in it."""
    key = normalize(term)
    lead = 1 if _is_word_char(term[0]) else 0
    trail = 1 if _is_word_char(term[-1]) else 0
    return " " * lead + key + " " * trail, lead


@dataclass(frozen=True)
class _Term:
    tool_id: str
    term: str
    case_sensitive: bool
    exact_punctuation: bool
    has_space: bool
    context: tuple[int, ...]  # ids of context phrases; empty = no requirement
    excludes: tuple[tuple[str, int, bool, bool], ...]  # (phrase casefolded, offset of the term in it, bound_l, bound_r)
    simple: bool  # any hit on the padded key is a match: no case, punctuation or exclude check needed


@dataclass(frozen=True)
class Mention:
    """One tool mentioned in a text: how many times, and where (character spans in the original text)."""

    tool_id: str
    count: int
    spans: tuple[tuple[int, int], ...] = field(default=(), compare=False)


@dataclass
class _KeyEntry:
    lead: int
    length: int  # length of the term in the original text
    terms: list[_Term] = field(default_factory=list)
    context_id: int | None = None


class MentionExtractor:
    """Find catalog tools in free text.

    Build once per process (``for_catalog()`` caches the bundled catalog's extractor: ~20 ms), then call
    :meth:`extract` per text. Thread-safe for reading.
    """

    def __init__(self, catalog: ToolCatalog) -> None:
        import ahocorasick

        self.catalog = catalog
        context_ids: dict[str, int] = {}
        keys: dict[str, _KeyEntry] = {}

        def context_id(phrase: str) -> int:
            norm = normalize(phrase)
            if norm not in context_ids:
                context_ids[norm] = len(context_ids)
                key, lead = _padded_key(phrase)
                entry = keys.setdefault(key, _KeyEntry(lead=lead, length=len(phrase)))
                entry.context_id = context_ids[norm]
            return context_ids[norm]

        n_terms = 0
        for tool in catalog.tools:
            for alias in tool.aliases:
                term = alias.term
                excludes = []
                for phrase in alias.exclude:
                    folded = phrase.casefold()
                    offset = folded.find(term.casefold())
                    excludes.append((folded, offset, _is_word_char(phrase[0]), _is_word_char(phrase[-1])))
                t = _Term(
                    tool_id=tool.id,
                    term=term,
                    case_sensitive=alias.case_sensitive,
                    exact_punctuation=any(not (_is_word_char(ch) or ch == " ") for ch in term),
                    has_space=" " in term,
                    context=tuple(context_id(p) for p in alias.requires_context),
                    excludes=tuple(excludes),
                    simple=not (
                        alias.case_sensitive or excludes or any(not (_is_word_char(ch) or ch == " ") for ch in term)
                    ),
                )
                key, lead = _padded_key(term)
                entry = keys.setdefault(key, _KeyEntry(lead=lead, length=len(term)))
                entry.terms.append(t)
                n_terms += 1

        automaton = ahocorasick.Automaton()
        for key, entry in keys.items():
            automaton.add_word(key, (len(key), entry.lead, entry.length, tuple(entry.terms), entry.context_id))
        automaton.make_automaton()
        self._automaton = automaton
        self.n_terms = n_terms
        self.n_context = len(context_ids)
        self.tool_ids = frozenset(t.id for t in catalog.tools)
        log.debug(
            "Mention extractor: %d alias terms, %d context phrases, %d keys", n_terms, len(context_ids), len(keys)
        )

    @classmethod
    def for_catalog(cls, catalog: ToolCatalog | None = None) -> MentionExtractor:
        """The extractor of ``catalog`` (default: the bundled one, built once per process)."""
        if catalog is None:
            return _default_extractor()
        return cls(catalog)

    # ----------------------------------------------------------------------------------------------------------------

    def find(self, text: str) -> list[tuple[int, int, str]]:
        """Accepted occurrences as ``(start, end, tool_id)`` in text order, non-overlapping (leftmost-longest)."""
        return [(s, e, t.tool_id) for s, e, t in self._scan(text)]

    def _scan(self, text: str) -> list[tuple[int, int, _Term]]:
        if not text:
            return []
        if "://" in text or "www." in text:
            text = strip_urls(text)
        if "\\_" in text:  # Reddit markdown escapes underscores: OLLAMA\_MAX is one identifier, not "OLLAMA"
            text = text.replace("\\_", "__")
        contexts: set[int] | None = None
        candidates: list[tuple[int, int, _Term]] | None = None
        accept = self._accept
        for end_idx, (klen, lead, length, terms, ctx_id) in self._automaton.iter(normalize(f" {text} ")):
            start = end_idx - klen + lead  # + 1 (first char of the key) - 1 (the leading pad)
            if ctx_id is not None:
                if contexts is None:
                    contexts = set()
                contexts.add(ctx_id)
            for term in terms:
                if term.simple or accept(text, start, start + length, term):
                    if candidates is None:
                        candidates = []
                    candidates.append((start, start + length, term))
        if candidates is None:
            return []
        ctx = contexts or _EMPTY
        return _leftmost_longest([c for c in candidates if not c[2].context or not ctx.isdisjoint(c[2].context)])

    def find_many(self, texts: Iterable[str]) -> list[list[tuple[int, int, str]]]:
        """:meth:`find` for each text.

        Texts are scanned one by one on purpose: joining a batch into one string was measured slower, because one
        non-ASCII character anywhere sends the whole batch down the slower Unicode normalisation path.
        """
        find = self.find
        return [find(t) for t in texts]

    @staticmethod
    def _accept(text: str, start: int, end: int, term: _Term) -> bool:
        raw = text[start:end]
        if term.case_sensitive:
            if raw != term.term and not (term.has_space and _same_but_separators(raw, term.term)):
                return False
        elif term.exact_punctuation:
            folded, want = raw.casefold(), term.term.casefold()
            if folded != want and not (term.has_space and _same_but_separators(folded, want)):
                return False
        for phrase, offset, bound_l, bound_r in term.excludes:
            p_start = start - offset
            p_end = p_start + len(phrase)
            if p_start < 0 or p_end > len(text) or text[p_start:p_end].casefold() != phrase:
                continue
            if bound_l and p_start > 0 and _is_word_char(text[p_start - 1]):
                continue
            if bound_r and p_end < len(text) and _is_word_char(text[p_end]):
                continue
            return False
        return True

    def extract(self, text: str) -> list[Mention]:
        """The tools ``text`` mentions with their counts, in order of first mention (empty when none)."""
        found = self.find(text)
        if not found:
            return []
        spans: dict[str, list[tuple[int, int]]] = {}
        for s, e, tool_id in found:
            spans.setdefault(tool_id, []).append((s, e))
        return [Mention(tool_id, len(v), tuple(v)) for tool_id, v in spans.items()]

    def counts_many(self, texts: Iterable[str]) -> list[dict[str, int]]:
        """``{tool_id: count}`` per text."""
        counts = self.counts
        return [counts(t) for t in texts]

    def counts(self, text: str) -> dict[str, int]:
        """``{tool_id: count}`` for ``text`` (the fast path used by the benchmark and the pipeline)."""
        out: dict[str, int] = {}
        for _, _, term in self._scan(text):
            out[term.tool_id] = out.get(term.tool_id, 0) + 1
        return out


def _leftmost_longest(spans: list[tuple[int, int, _Term]]) -> list[tuple[int, int, _Term]]:
    """Non-overlapping spans, preferring the earliest start and then the longest ("Apache Spark" over "Spark")."""
    if len(spans) < 2:
        return spans
    spans.sort(key=lambda c: (c[0], c[0] - c[1]))
    kept = []
    last_end = -1
    for c in spans:
        if c[0] >= last_end:
            kept.append(c)
            last_end = c[1]
    return kept


@lru_cache(maxsize=1)
def _default_extractor() -> MentionExtractor:
    from madlake.catalog import load_catalog

    return MentionExtractor(load_catalog())


def extract_jsonl(lines: Iterable[str], extractor: MentionExtractor | None = None) -> Iterator[dict[str, Any]]:
    """Map JSON lines ``{"id": ..., "text": ...}`` to ``{"id": ..., "mentions": [{"tool", "count"}]}``.

    Blank lines are skipped.

    Raises:
        ValueError: a line that is not a JSON object with a string ``text``; the message gives the line number and,
            when readable, the id.
    """
    import json

    extractor = extractor or MentionExtractor.for_catalog()
    for lineno, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            raise ValueError(f"line {lineno}: not valid JSON ({exc})") from None
        if not isinstance(record, dict) or not isinstance(record.get("text"), str):
            rid = record.get("id") if isinstance(record, dict) else None
            raise ValueError(f"line {lineno} (id={rid!r}): expected an object with a string 'text'")
        mentions = [{"tool": m.tool_id, "count": m.count} for m in extractor.extract(record["text"])]
        yield {"id": record.get("id"), "mentions": mentions}
