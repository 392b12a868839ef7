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
from bisect import bisect_right
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from itertools import accumulate, pairwise
from types import ModuleType
from typing import IO, Any

import ahocorasick
import msgspec

from madlake.catalog import load_catalog
from madlake.catalog.models import ToolCatalog

ahocorasick_rs: ModuleType | None
try:
    import ahocorasick_rs
except ImportError:  # pragma: no cover - x86_64 and aarch64 wheels exist; _FastMatcher falls back elsewhere
    ahocorasick_rs = None

log = logging.getLogger(__name__)

#: Separators (everything but letters, digits and underscore, as ``\w``): ASCII ones go through one bytes
#: ``translate`` (C speed, ~1 ns/char); the few common Unicode ones (quotes, dashes, nbsp) are replaced when present.
_ASCII_SEPARATORS = "".join(chr(c) for c in range(128) if not (chr(c).isalnum() or chr(c) == "_"))
_UNICODE_SEPARATORS = (
    "\u00a0\u2018\u2019\u201a\u201b\u201c\u201d\u201e\u2013\u2014\u2015\u2026\u2022\u00b7\u2212\u00ab\u00bb"
    "\u2122\u00ae\u00a9\u3000\u200b\ufeff"
)
_EMPTY: frozenset[int] = frozenset()
#: ``_accept``'s third answer: the occurrence counts when the text around it is about tools.
_TOOLS = object()
#: A version right after a name ("airflow 2.7", "Spark 3", "torch==2.3", "v1.4").
_VERSION_AFTER = re.compile(r"(?:[ -]?v|==|[ -]|@)?\d+(?:\.\d+)*(?![\w%])")
#: A name written as code: a package being installed or imported, or in backticks.
_CODE_BEFORE = re.compile(r"(?:pip3? install(?: -+[\w-]+)*|uv add|conda install|import|from|`)\s*$")
#: A module attribute right after a name (``torch.compile``), or a closing backtick.
_CODE_AFTER = re.compile(r"\.[A-Za-z_]\w*|`")
#: What separates two names of a list: "a, b", "a/b", "a & b", "a and b", "a or b".
_LIST_GAP = re.compile(r"\s*(?:[,/&+|;]|\band\b|\bor\b)\s*(?:and\s+|or\s+)?", re.I)
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
    unless: tuple[int, ...] = ()  # ids of phrases vetoing every occurrence in a text holding one
    tools: bool = False  # context: tools -- every occurrence needs the text around it to be about tools
    other_case: bool = False  # other_case: tools -- an occurrence in another case needs that too


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

        mc = catalog.mention_context
        self._window = mc.window
        self._stack_ids = frozenset(context_id(w) for w in mc.stack_words)
        self._cue_re = (
            re.compile(r"(?:^|[^\w])(?:" + "|".join(re.escape(w) for w in mc.cue_words) + r")[\s(\[]+$", re.I)
            if mc.cue_words
            else None
        )
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
                        alias.case_sensitive
                        or excludes
                        or alias.context == "tools"
                        or any(not (_is_word_char(ch) or ch == " ") for ch in term)
                    ),
                    unless=tuple(context_id(p) for p in alias.unless_context),
                    tools=alias.context == "tools",
                    other_case=alias.other_case == "tools",
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
        self._batch = _BatchMatcher(keys)
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

    def _scan(self, text: str) -> list[tuple[int, int, _Term]]:  # noqa: PLR0912 - one hot loop, kept flat
        if not text:
            return []
        if "://" in text or "www." in text:
            text = strip_urls(text)
        if "\\_" in text:  # Reddit markdown escapes underscores: OLLAMA\_MAX is one identifier, not "OLLAMA"
            text = text.replace("\\_", "__")
        contexts: set[int] | None = None
        stack: list[tuple[int, int]] | None = None
        candidates: list[tuple[int, int, _Term]] | None = None
        pending: list[tuple[int, int, _Term]] | None = None  # need the text around them to be about tools
        accept = self._accept
        stack_ids = self._stack_ids
        for end_idx, (klen, lead, length, terms, ctx_id) in self._automaton.iter(normalize(f" {text} ")):
            start = end_idx - klen + lead  # + 1 (first char of the key) - 1 (the leading pad)
            if ctx_id is not None:
                if contexts is None:
                    contexts = set()
                contexts.add(ctx_id)
                if ctx_id in stack_ids:
                    if stack is None:
                        stack = []
                    stack.append((start, start + length))
            for term in terms:
                verdict = True if term.simple else accept(text, start, start + length, term)
                if verdict is True:
                    if candidates is None:
                        candidates = []
                    candidates.append((start, start + length, term))
                elif verdict is _TOOLS:
                    if pending is None:
                        pending = []
                    pending.append((start, start + length, term))
        if candidates is None and pending is None:
            return []
        ctx = contexts or _EMPTY

        def allowed(c: tuple[int, int, _Term]) -> bool:
            t = c[2]
            return (not t.context or not ctx.isdisjoint(t.context)) and (not t.unless or ctx.isdisjoint(t.unless))

        kept = [c for c in candidates or () if allowed(c)]
        if pending:
            kept += self._about_tools(text, kept, [c for c in pending if allowed(c)], stack or [])
        return _leftmost_longest(kept)

    def _about_tools(
        self,
        text: str,
        kept: list[tuple[int, int, _Term]],
        pending: list[tuple[int, int, _Term]],
        stack: list[tuple[int, int]],
    ) -> list[tuple[int, int, _Term]]:
        """The ``pending`` occurrences the text around is about tools for (the ``context: tools`` rule, in
        :mod:`madlake.catalog.models`): anchor, neighbour, cue, version or code. Repeated until stable, so a
        stack list of ambiguous names ("snowflake, redshift, airflow") anchors itself once one of them counts."""
        window = self._window
        cue_re = self._cue_re
        accepted: list[tuple[int, int, _Term]] = []
        # Ambiguous names listed next to each other ("airflow/prefect", "redshift,snowflake,airflow and ...") are a
        # stack list: each is the other's neighbour.
        by_start = sorted(pending, key=lambda c: c[0])
        listed: set[tuple[int, int]] = set()
        for a, b in pairwise(by_start):
            if a[2].tool_id != b[2].tool_id and _LIST_GAP.fullmatch(text, a[1], b[0]):
                listed.update(((a[0], a[1]), (b[0], b[1])))
        left: list[tuple[int, int, _Term]] = []
        for c in pending:
            (accepted if (c[0], c[1]) in listed else left).append(c)
        while left:
            tools = {c[2].tool_id for c in kept} | {c[2].tool_id for c in accepted}
            spans = [(c[0], c[1]) for c in kept] + [(c[0], c[1]) for c in accepted] + stack
            still: list[tuple[int, int, _Term]] = []
            for c in left:
                start, end, term = c
                ok = term.tool_id in tools or any(
                    s < end + window and e > start - window and not (s == start and e == end) for s, e in spans
                )
                if not ok:
                    before = text[max(0, start - 24) : start]
                    after = text[end : end + 12]
                    ok = bool(
                        (cue_re is not None and cue_re.search(before))
                        or _VERSION_AFTER.match(after)
                        or _CODE_BEFORE.search(before)
                        or _CODE_AFTER.match(after)
                    )
                (accepted if ok else still).append(c)
            if len(still) == len(left):
                break
            left = still
        return accepted

    def find_many(self, texts: Sequence[str]) -> list[list[tuple[int, int, str]]]:
        """:meth:`find` for each text, in one multi-pattern pass over the whole batch (see :class:`_BatchMatcher`).

        Gives exactly what :meth:`find` gives text by text (the tests and ``make bench`` check it on real texts).
        """
        return [[(s, e, t.tool_id) for s, e, t in hits] for hits in self._scan_many(texts)]

    def counts_many(self, texts: Sequence[str]) -> list[dict[str, int]]:
        """``{tool_id: count}`` per text (the batch pass)."""
        sparse = self.counts_sparse(texts)
        return [sparse.get(i) or {} for i in range(len(texts))]

    def counts_sparse(self, texts: Sequence[str]) -> dict[int, dict[str, int]]:
        """``{index: {tool_id: count}}`` for the texts of the batch that mention a tool (the fastest form)."""
        if not isinstance(texts, list | tuple):
            texts = list(texts)
        found, slow = self._batch.scan(texts)
        for i in slow:
            found[i] = self._scan(texts[i])
        out: dict[int, dict[str, int]] = {}
        for i, hits in found.items():
            if hits:
                counts: dict[str, int] = {}
                for _, _, term in hits:
                    counts[term.tool_id] = counts.get(term.tool_id, 0) + 1
                out[i] = counts
        return out

    def _scan_many(self, texts: Sequence[str]) -> list[list[tuple[int, int, _Term]]]:
        if not isinstance(texts, list | tuple):
            texts = list(texts)
        found, slow = self._batch.scan(texts)
        scan = self._scan
        for i in slow:
            found[i] = scan(texts[i])
        return [found.get(i, []) for i in range(len(texts))]

    @staticmethod
    def _accept(text: str, start: int, end: int, term: _Term) -> Any:
        """True (counts), False (does not) or ``_TOOLS`` (counts when the text around it is about tools)."""
        raw = text[start:end]
        verdict: Any = _TOOLS if term.tools else True
        if term.case_sensitive:
            if raw != term.term and not (term.has_space and _same_but_separators(raw, term.term)):
                if not term.other_case:
                    return False
                verdict = _TOOLS
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
        return verdict

    def extract(self, text: str) -> list[Mention]:
        """The tools ``text`` mentions with their counts, in order of first mention (empty when none)."""
        found = self.find(text)
        if not found:
            return []
        spans: dict[str, list[tuple[int, int]]] = {}
        for s, e, tool_id in found:
            spans.setdefault(tool_id, []).append((s, e))
        return [Mention(tool_id, len(v), tuple(v)) for tool_id, v in spans.items()]

    def counts(self, text: str) -> dict[str, int]:
        """``{tool_id: count}`` for ``text`` (the fast path used by the benchmark and the pipeline)."""
        out: dict[str, int] = {}
        for _, _, term in self._scan(text):
            out[term.tool_id] = out.get(term.tool_id, 0) + 1
        return out


_SPACE = 32
#: The batch buffer's one translation: ASCII letters lowercased, every other byte but digits and "_" a space. Bytes of
#: non-ASCII characters become spaces too (a superset of the boundaries the per-text path sees): any hit in a
#: non-ASCII text is re-checked by the exact path, so this only ever adds candidates, never loses one.
_BATCH_TABLE = bytes(
    c + 32 if 65 <= c <= 90 else c if (48 <= c <= 57 or 97 <= c <= 122 or c == 95) else _SPACE for c in range(256)
)
_BATCH_JOIN = "\x00"
#: Characters the per-text normalisation turns into spaces: what may stand on either side of a term.
_SEPARATOR_CHARS = frozenset(_ASCII_SEPARATORS + _UNICODE_SEPARATORS)


@dataclass(frozen=True)
class _FastKey:
    length: int  # length of the term (or context phrase) in the text
    trail: bool  # it ends with a word character: a boundary must follow it
    terms: tuple[_Term, ...]  # empty for a context phrase
    check: bool  # some term needs a check beyond word boundaries (case, punctuation, exclude, context)
    context_id: int | None  # the key is (also) this context phrase
    exact: bool = False  # some term needs the text around it (context: tools, other_case, unless_context)


class _BatchMatcher:
    """One Rust Aho-Corasick pass (ahocorasick-rs, DFA, overlapping) over a whole batch joined into one byte buffer.

    The buffer is the batch joined with NULs and UTF-8 encoded, then one ``bytes.translate`` (ASCII lowercase, every
    other byte but digits and ``_`` a space): C speed, byte offsets kept. Keys are the alias terms normalised the same
    way. The pass reports every occurrence, overlapping ones included (the candidates of the per-text pass), then
    per candidate, in Python:

    * word boundaries: a space (or the buffer's edge) must precede it and, when the term ends with a word character,
      follow it; a key spanning two texts is dropped;
    * a term with no check is accepted at once. For the other candidates (case, punctuation, exclude, context, and
      any candidate of a text holding a URL) the text's own string is checked with the per-text code: URLs blanked,
      the same ``_accept``, and the context phrases found by a second small pass over that text only;
    * a text that is not ASCII and has a candidate goes to the exact per-text path (:meth:`MentionExtractor._scan`):
      its character offsets are not byte offsets, and non-ASCII bytes were all made spaces (which only adds
      candidates, never loses one);
    * overlapping accepted candidates resolve leftmost-longest, as per text.

    So the batch gives the per-text answer (tests and ``make bench`` compare both on real texts) and only texts with
    candidates pay for Python. Without ahocorasick-rs (no wheel for a platform) every text takes the exact path: same
    answers, slower.
    """

    def __init__(self, keys: dict[str, _KeyEntry]) -> None:
        if ahocorasick_rs is None:  # pragma: no cover - x86_64 and aarch64 wheels exist; the fallback elsewhere
            log.warning("ahocorasick-rs is not installed: mention extraction runs text by text (slower)")
            self._ac: Any = None
            return
        fast: dict[bytes, _FastKey] = {}
        for key, entry in keys.items():
            if entry.lead == 0:  # a term starting with a separator (".NET"): only the exact path handles those
                log.warning("alias %r starts with a separator: mention extraction runs text by text", key)
                self._ac = None
                return
            core = key.strip(" ")
            terms = tuple(entry.terms)
            fast[core.encode("ascii", "backslashreplace")] = _FastKey(
                length=entry.length,
                trail=len(core) + 1 < len(key),
                terms=terms,
                check=not all(t.simple and not t.context for t in terms),
                context_id=entry.context_id,
                exact=any(t.tools or t.other_case or t.unless for t in terms),
            )
        term_keys = [k for k, v in fast.items() if v.terms]
        ctx_keys = [k for k, v in fast.items() if v.context_id is not None]
        self._info = [fast[k] for k in term_keys]
        self._ctx_info = [fast[k] for k in ctx_keys]
        kind, impl = ahocorasick_rs.MatchKind.Standard, ahocorasick_rs.Implementation.DFA
        self._ac = ahocorasick_rs.BytesAhoCorasick(term_keys, matchkind=kind, implementation=impl)
        self._ctx_ac = ahocorasick_rs.BytesAhoCorasick(ctx_keys, matchkind=kind, implementation=impl)

    def _contexts(self, buf: bytes) -> set[int]:
        """Ids of the context phrases in one text's normalised bytes (on word boundaries)."""
        size = len(buf)
        out: set[int] = set()
        info = self._ctx_info
        for pid, s, e in self._ctx_ac.find_matches_as_indexes(buf, overlapping=True):
            k = info[pid]
            if (s and buf[s - 1] != _SPACE) or (k.trail and e < size and buf[e] != _SPACE):
                continue
            if k.context_id is not None:
                out.add(k.context_id)
        return out

    def _careful(
        self, text: str, raw: bytes, got: list[tuple[int, _FastKey]], accept: Any
    ) -> list[tuple[int, int, _Term]]:
        """Check one text's candidates on the text itself, as the per-text path sees it (URLs blanked, escaped
        underscores joined, word boundaries, case / punctuation / exclude checks, context phrases)."""
        if len(raw) != len(text):  # not ASCII: byte offsets to character offsets
            got = [(len(raw[:off].decode("utf-8", "surrogatepass")), k) for off, k in got]
        view = text
        if ("://" in text or "www." in text) and any(_in_url_run(text, off, off + k.length) for off, k in got):
            view = strip_urls(text)  # some candidate may sit in a URL: blank them as the per-text path does
        if "\\_" in view:
            view = view.replace("\\_", "__")
        size = len(view)
        ctx: set[int] | None = None
        hits = []
        for off, k in got:
            end = off + k.length
            if end > size or view[off:end] != text[off:end]:  # blanked (in a URL) or joined (OLLAMA\_MAX)
                continue
            if (off and view[off - 1] not in _SEPARATOR_CHARS) or (
                k.trail and end < size and view[end] not in _SEPARATOR_CHARS
            ):
                continue
            for t in k.terms:
                if t.context:
                    if ctx is None:
                        ctx = self._contexts(view.encode("utf-8", "surrogatepass").translate(_BATCH_TABLE))
                    if ctx.isdisjoint(t.context):
                        continue
                if t.simple or accept(view, off, end, t):
                    hits.append((off, end, t))
                    break
        return hits

    def scan(  # noqa: PLR0912 - one hot loop over every hit of a batch, kept flat on purpose
        self, texts: Sequence[str]
    ) -> tuple[dict[int, list[tuple[int, int, _Term]]], set[int]]:
        """Accepted hits of the texts that have some, and the indexes of the texts needing the exact path."""
        n = len(texts)
        if self._ac is None:
            return {}, set(range(n))
        if not n:
            return {}, set()
        data = _BATCH_JOIN.join(texts).encode("utf-8", "surrogatepass")
        lengths = list(map(len, texts))  # bytes = characters for ASCII texts; the others are measured in bytes
        if not data.isascii():
            for i, t in enumerate(texts):
                if not t.isascii():
                    lengths[i] = len(t.encode("utf-8", "surrogatepass"))
        buf = data.translate(_BATCH_TABLE)
        size = len(buf)
        starts = list(accumulate(map((1).__add__, lengths), initial=0))  # starts[i + 1] - 1: the NUL after text i
        cands: dict[int, list[tuple[int, _FastKey]]] = {}
        careful: set[int] = set()  # texts whose candidates need the checks on the text itself
        slow: set[int] = set()
        info = self._info
        for pid, s, e in self._ac.find_matches_as_indexes(buf, overlapping=True):
            if s and buf[s - 1] != _SPACE:
                continue
            k = info[pid]
            if k.trail and e < size and buf[e] != _SPACE:
                continue
            i = bisect_right(starts, s) - 1
            start = starts[i]
            if e > start + lengths[i]:  # runs into the next text
                continue
            if k.exact:
                slow.add(i)
                continue
            got = cands.get(i)
            if got is None:
                got = cands[i] = []
                if lengths[i] != len(texts[i]):  # not ASCII: offsets are converted to characters
                    careful.add(i)
            got.append((s - start, k))
            if k.check:
                careful.add(i)
        found: dict[int, list[tuple[int, int, _Term]]] = {}
        accept = MentionExtractor._accept
        for i, got in cands.items():
            if i in slow:
                continue
            start = starts[i]
            raw = data[start : start + lengths[i]]
            if i not in careful and not (b"://" in raw or b"www." in raw or b"\\_" in raw):
                hits = [(off, off + k.length, k.terms[0]) for off, k in got]
            else:
                hits = self._careful(texts[i], raw, got, accept)
            if hits:
                found[i] = _leftmost_longest(hits) if len(hits) > 1 else hits
        return found, slow


#: A run of bytes up to ASCII whitespace, NUL, or the lead byte of a multi-byte character that may be a space.
_RUN_BYTES = re.compile(rb"[^\s\x00\x1c-\x1f\xc2\xe1\xe2\xe3]+")
#: UTF-8 of the non-ASCII characters ``str`` regexes call whitespace (NEL, NBSP, U+1680, U+2000-200A, 2028, 2029,
#: 202F, 205F, 3000): a URL ends there, as in :func:`strip_urls`.
_UNICODE_SPACES = tuple(ch.encode() for ch in "\x85\xa0\u1680\u2028\u2029\u202f\u205f\u3000") + tuple(
    chr(c).encode() for c in range(0x2000, 0x200B)
)
_SCHEME_BYTES = frozenset(ord(c) for c in _SCHEME_CHARS)
_WORD_BYTES = frozenset(c for c in range(256) if c >= 128 or chr(c).isalnum() or c == ord("_"))


def _url_end(data: bytes, i: int) -> int:
    size = len(data)
    end = i
    while True:
        m = _RUN_BYTES.match(data, end)
        end = m.end() if m else end
        if end >= size or data[end] < 0xC2 or data.startswith(_UNICODE_SPACES, end):
            return end
        end += 1  # the lead byte of a character that is not a space: the URL goes on


def _in_url_run(text: str, start: int, end: int) -> bool:
    """Whether the run of non-space characters around ``text[start:end]`` holds a URL marker (``://`` or ``www.``).

    Cheap and conservative: runs are cut at ASCII whitespace only, so a run is never shorter than the one
    :func:`strip_urls` sees; a True sends the text through :func:`strip_urls` for the exact answer.
    """
    lo = max(text.rfind(" ", 0, start), text.rfind("\n", 0, start), text.rfind("\t", 0, start)) + 1
    hi = len(text)
    for ch in " \n\t":
        j = text.find(ch, end)
        if 0 <= j < hi:
            hi = j
    run = text[lo:hi]
    return "://" in run or "www." in run


def strip_urls_bytes(data: bytes) -> bytes:
    """:func:`strip_urls` on UTF-8 bytes: blanks each URL byte for byte, so byte offsets are kept.

    A URL runs to the next ASCII whitespace here (Unicode spaces after a URL are rare; a text whose answer could
    differ has a non-ASCII character, and hits in non-ASCII texts are all re-checked by the exact path).
    """
    spans: list[tuple[int, int]] = []
    i = data.find(b"://")
    while i >= 0:
        start = i
        while start > 0 and data[start - 1] in _SCHEME_BYTES:
            start -= 1
        end = max(_url_end(data, i), i + 3)
        if start < i:
            spans.append((start, end))
        i = data.find(b"://", end)
    i = data.find(b"www.")
    while i >= 0:
        end = max(_url_end(data, i), i + 4)
        if i == 0 or not (data[i - 1] in _WORD_BYTES or data[i - 1] == 47):
            spans.append((i, end))
        i = data.find(b"www.", end)
    if not spans:
        return data
    spans.sort()
    out = bytearray(data)
    for start, end in spans:
        out[start:end] = b" " * (end - start)
    return bytes(out)


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
    return MentionExtractor(load_catalog())


def extract_jsonl(lines: Iterable[str], extractor: MentionExtractor | None = None) -> Iterator[dict[str, Any]]:
    """Map JSON lines ``{"id": ..., "text": ...}`` to ``{"id": ..., "mentions": [{"tool", "count"}]}``.

    Blank lines are skipped. Lines are matched in batches (:meth:`MentionExtractor.counts_many`).

    Raises:
        ValueError: a line that is not a JSON object with a string ``text``; the message gives the line number and,
            when readable, the id.
    """
    extractor = extractor or MentionExtractor.for_catalog()
    decode = msgspec.json.Decoder().decode
    batch: list[tuple[Any, str]] = []

    def flush() -> Iterator[dict[str, Any]]:
        for (rid, _), counts in zip(batch, extractor.counts_many([t for _, t in batch]), strict=True):
            yield {"id": rid, "mentions": [{"tool": k, "count": v} for k, v in counts.items()]}
        batch.clear()

    for lineno, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        rid, text = _parse_line(decode, line, lineno)
        batch.append((rid, text))
        if len(batch) >= BATCH_TEXTS:
            yield from flush()
    yield from flush()


#: Texts per batch pass: large enough that the per-batch overhead vanishes, small enough that memory stays flat.
BATCH_TEXTS = 20_000
#: Bytes read per step by :func:`extract_ndjson` (about 20k Reddit texts).
BATCH_BYTES = 8 << 20


def _parse_line(decode: Callable[[str | bytes], Any], line: str | bytes, lineno: int) -> tuple[Any, str]:
    try:
        record = decode(line)
    except msgspec.DecodeError as exc:
        raise ValueError(f"line {lineno}: not valid JSON ({exc})") from None
    if not isinstance(record, dict) or not isinstance(record.get("text"), str):
        rid = record.get("id") if isinstance(record, dict) else None
        raise ValueError(f"line {lineno} (id={rid!r}): expected an object with a string 'text'")
    return record.get("id"), record["text"]


def extract_ndjson(src: IO[bytes], dst: IO[bytes], extractor: MentionExtractor | None = None) -> int:
    """Stream JSON lines from binary file ``src`` to binary file ``dst`` (the CLI): returns the number of texts.

    Reads :data:`BATCH_BYTES` at a time (memory stays flat in the number of texts), decodes each batch of lines with
    one msgspec call (the id is kept as raw JSON and copied to the output unchanged), matches the batch in one pass
    and writes its output lines in one write. Same contract and errors as :func:`extract_jsonl`.
    """
    line_type: Any = msgspec.defstruct("Line", [("text", str), ("id", msgspec.Raw, msgspec.Raw(b"null"))])
    out_type: Any = msgspec.defstruct("Out", [("id", msgspec.Raw), ("mentions", list)])
    decode_lines = msgspec.json.Decoder(line_type).decode_lines
    encode_lines = msgspec.json.Encoder().encode_lines
    extractor = extractor or MentionExtractor.for_catalog()
    rest = b""
    lineno = 0
    total = 0
    empty: list[Any] = []
    while True:
        chunk = src.read(BATCH_BYTES)
        if chunk:
            data = rest + chunk
            cut = data.rfind(b"\n") + 1
            data, rest = data[:cut], data[cut:]
            if not data:
                continue
        else:
            data, rest = rest, b""
            if not data:
                break
        try:
            records = decode_lines(data)
        except (msgspec.DecodeError, msgspec.ValidationError):
            plain = msgspec.json.decode
            for k, ln in enumerate(data.splitlines(), start=lineno + 1):
                if ln.strip():
                    _parse_line(plain, ln, k)  # raises, naming the first bad line
            raise  # pragma: no cover - the batch failed, so some line must
        lineno += data.count(b"\n") + (0 if data.endswith(b"\n") else 1)
        sparse = extractor.counts_sparse([r.text for r in records])
        out = [out_type(r.id, empty) for r in records]
        for i, counts in sparse.items():
            out[i] = out_type(records[i].id, [{"tool": k, "count": v} for k, v in counts.items()])
        dst.write(encode_lines(out))
        total += len(records)
    dst.flush()
    return total
