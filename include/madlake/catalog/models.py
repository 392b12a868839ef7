"""Pydantic models of the tracked-tools catalog, and the rules a catalog must satisfy.

This module is imported by DAG files, so it depends only on pydantic and the standard library.

Alias matching contract (implemented by the mention extractor, stated here because the catalog is written against it):

* ``term`` matches on word boundaries; case-insensitively unless ``case_sensitive`` is true.
* ``requires_context``: when non-empty, an occurrence counts only if at least one of these words or phrases appears
  anywhere in the same text (matched case-insensitively, on word boundaries).
* ``exclude``: phrases that veto an occurrence of the term lying inside them (matched case-insensitively), e.g.
  ``Snowflake`` inside "snowflake schema". Each phrase must contain the term, otherwise it could never veto anything.
* ``unless_context``: phrases that veto every occurrence when one of them appears anywhere in the text ("Spark" in a
  text about the "DGX Spark" computer).
* ``context: tools``: an occurrence counts only when **the text around it is about tools**; ``other_case: tools``
  (with ``case_sensitive``) lets an occurrence written in another case ("snowflake", "REDSHIFT") count on the same
  condition. The text around an occurrence is about tools when any of these holds:

  - *anchor*: the same tool is named elsewhere in the text by an occurrence that counts;
  - *neighbour*: another counted tool name, or one of the catalog's ``mention_context.stack_words`` (AWS, Python,
    Terraform, ETL, ...), lies within ``mention_context.window`` characters (a stack list: "AWS, snowflake, Kafka
    CDC, dbt, prefect", "airflow/prefect");
  - *cue*: one of ``mention_context.cue_words`` stands right before it ("using spark", "on databricks");
  - *version*: a version follows it ("airflow 2.7", "spark 3");
  - *code*: it is written as code: a package or import (``pip install torch``, ``import torch``), a module attribute
    (``torch.compile``) or in backticks.

  The ordinary phrases of a name are vetoed first by ``exclude`` ("snowflake schema", "spark joy", "delta between").
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, StrictBool, StringConstraints, model_validator

SLUG_RE = re.compile(r"^[a-z0-9_]{1,64}$")
# owner (<= 39 characters) / name (<= 100), GitHub's characters, neither "." nor ".." (the star-history params' rule;
# \Z, not $, so a trailing newline does not pass).
GITHUB_REPO_RE = re.compile(r"^(?!\.\.?/)[A-Za-z0-9_.-]{1,39}/(?!\.\.?\Z)[A-Za-z0-9_.-]{1,100}\Z")
#: Longest alias term / context or exclude phrase / display name.
MAX_TERM_CHARS = 100
MAX_PHRASE_CHARS = 200
MAX_NAME_CHARS = 200


def text_errors(value: str, what: str, limit: int) -> list[str]:
    """Why ``value`` cannot be a catalog text (alias term, phrase, name): too long, no letter or digit, control or
    invisible format characters (zero-width space, BOM, bidi overrides), or surrounding whitespace. Linear time."""
    shown = repr(value) if len(value) <= 60 else repr(value[:40]) + f"... ({len(value):,} characters)"
    if len(value) > limit:
        return [f"{what} {shown} is longer than {limit} characters"]
    errors = []
    if not any(ch.isalnum() for ch in value):
        errors.append(f"{what} {shown} has no letter or digit")
    bad = sorted(
        {f"U+{ord(ch):04X}" for ch in value if unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Co", "Zl", "Zp")}
    )
    if bad:
        errors.append(f"{what} {shown} contains invisible or control characters ({', '.join(bad[:5])})")
    if value != value.strip():
        errors.append(f"{what} {shown} has leading or trailing whitespace")
    return errors


HOMEPAGE_RE = re.compile(r"^https?://[^\s/]+\.[^\s/]+(/\S*)?$")
# npm package names: lowercase, optionally scoped (@scope/name).
NPM_RE = re.compile(r"^(@[a-z0-9][a-z0-9._~-]*/)?[a-z0-9][a-z0-9._~-]*$")

NonEmptyStr = Annotated[str, StringConstraints(min_length=1)]


def normalize_pypi_name(name: str) -> str:
    """Return the PEP 503 normalized form of a PyPI project name."""
    return re.sub(r"[-_.]+", "-", name).lower()


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


MentionContextRule = Literal["any", "tools"]


class Alias(_Frozen):
    """One term that names a tool in free text (see the module docstring for the matching contract)."""

    term: str
    case_sensitive: StrictBool = False
    requires_context: tuple[NonEmptyStr, ...] = ()
    exclude: tuple[NonEmptyStr, ...] = ()
    unless_context: tuple[NonEmptyStr, ...] = ()
    context: MentionContextRule = "any"
    other_case: Literal["never", "tools"] = "never"

    @model_validator(mode="after")
    def _check(self) -> Alias:
        if not self.term.strip():
            raise ValueError("alias term is empty")
        errors = text_errors(self.term, "alias term", MAX_TERM_CHARS)
        for phrase in (*self.requires_context, *self.exclude):
            errors += text_errors(phrase, f"alias {self.term[:40]!r}: phrase", MAX_PHRASE_CHARS)
        if errors:
            raise ValueError("; ".join(errors))
        for phrase in self.exclude:
            if self.term.casefold() not in phrase.casefold():
                raise ValueError(
                    f"alias {self.term!r}: exclude phrase {phrase!r} does not contain the term, so it can never veto it"
                )
        if self.other_case != "never" and not self.case_sensitive:
            raise ValueError(f"alias {self.term!r}: other_case needs case_sensitive (every case matches already)")
        return self

    def conflicts_with(self, other: Alias) -> bool:
        """Whether both aliases can match the same text.

        Terms are compared case-insensitively, except that two case-sensitive terms differing only in case
        ("DLT" vs "dlt") are distinct.
        """
        if self.term.casefold() != other.term.casefold():
            return False
        return not (self.case_sensitive and other.case_sensitive and self.term != other.term)


class Tool(_Frozen):
    """A tracked tool. Field order is the export column order."""

    id: str
    name: NonEmptyStr
    categories: tuple[str, ...]
    aliases: tuple[Alias, ...]
    pypi: tuple[str, ...] = ()
    github: tuple[str, ...] = ()
    npm: tuple[str, ...] = ()
    homepage: str | None = None
    open_source: StrictBool
    #: Former ``owner/name`` of the tool's repository (GitHub renames and transfers), so rows recorded under an old
    #: name (EvanLi/Github-Ranking's daily files, best-of snapshots) map to the tracked repo. Needs exactly one
    #: ``github`` repo: a former name of one of several repos would be ambiguous.
    github_renamed: tuple[str, ...] = ()
    #: What a reader must know before comparing this tool's numbers, above all when its PyPI package rides in as
    #: another package's dependency (downloads that are not adoption of the tool). Shown beside answers.
    notes: str | None = None

    @property
    def primary_category(self) -> str:
        """The first listed category: the one used when a tool must be counted once."""
        return self.categories[0]

    @model_validator(mode="after")
    def _check(self) -> Tool:
        errors = self._identity_errors() + self._package_errors()
        if self.notes is not None and not self.notes.strip():
            errors.append("notes is empty: omit it or say something")
        if self.homepage is not None and not HOMEPAGE_RE.match(self.homepage):
            errors.append(f"homepage {self.homepage!r} is not an http(s) URL")
        if errors:
            raise ValueError(f"tool {self.id!r}: " + "; ".join(errors))
        return self

    def _identity_errors(self) -> list[str]:
        errors: list[str] = []
        if not SLUG_RE.match(self.id):
            errors.append("id must match [a-z0-9_]+")
        if not self.categories:
            errors.append("has no category")
        errors += [f"category {c!r} listed twice" for c in _duplicates(self.categories)]
        if not self.aliases:
            errors.append("has no alias (the display name is not an implicit alias: list every term)")
        errors += text_errors(self.name, "name", MAX_NAME_CHARS)
        errors += [
            f"alias term {term!r} listed twice" for term, _ in _alias_conflicts((a, self.id) for a in self.aliases)
        ]
        return errors

    def _package_errors(self) -> list[str]:
        errors = [
            f"github repo {r!r} is not of the form owner/repo" for r in self.github if not GITHUB_REPO_RE.match(r)
        ]
        errors += [f"github repo {r!r} listed twice" for r in _duplicates(r.lower() for r in self.github)]
        errors += [
            f"github_renamed {r!r} is not of the form owner/repo"
            for r in self.github_renamed
            if not GITHUB_REPO_RE.match(r)
        ]
        errors += [f"github_renamed {r!r} listed twice" for r in _duplicates(r.lower() for r in self.github_renamed)]
        current = {r.lower() for r in self.github}
        errors += [
            f"github_renamed {r!r} is also a current github repo of the tool"
            for r in self.github_renamed
            if r.lower() in current
        ]
        if self.github_renamed and len(self.github) != 1:
            errors.append(f"github_renamed needs exactly one github repo to map to, the tool lists {len(self.github)}")
        errors += [
            f"pypi name {p!r} is not PEP 503 normalized: write {normalize_pypi_name(p)!r}"
            for p in self.pypi
            if p != normalize_pypi_name(p)
        ]
        errors += [f"pypi name {p!r} listed twice" for p in _duplicates(self.pypi)]
        errors += [f"npm package {p!r} is not a valid lowercase npm name" for p in self.npm if not NPM_RE.match(p)]
        errors += [f"npm package {p!r} listed twice" for p in _duplicates(self.npm)]
        return errors


class MentionContext(_Frozen):
    """What makes the text around an ambiguous name "about tools" (see ``context: tools`` in the module docstring)."""

    window: int = Field(default=60, ge=1, le=1000)
    stack_words: tuple[NonEmptyStr, ...] = ()
    cue_words: tuple[NonEmptyStr, ...] = ()


class ToolCatalog(_Frozen):
    """The tracked tools and the category taxonomy they are classified in.

    Validation covers what the per-tool checks cannot see: unknown categories and anything that must be unique
    across tools (ids, alias terms, PyPI projects, GitHub repos, npm packages), because downstream tables key on them.
    """

    categories: dict[str, NonEmptyStr]
    tools: tuple[Tool, ...]
    mention_context: MentionContext = MentionContext()

    _by_id: dict[str, Tool] = PrivateAttr(default_factory=dict)

    @model_validator(mode="after")
    def _check(self) -> ToolCatalog:
        errors: list[str] = []
        errors += [f"category id {c!r} must match [a-z0-9_]+" for c in self.categories if not SLUG_RE.match(c)]
        if not self.tools:
            errors.append("catalog has no tools")

        errors += [f"duplicate tool id {tool_id!r}" for tool_id in _duplicates(t.id for t in self.tools)]
        for tool in self.tools:
            unknown = [c for c in tool.categories if c not in self.categories]
            if unknown:
                errors.append(f"tool {tool.id!r}: unknown categories {unknown} (known: {sorted(self.categories)})")

        errors += _cross_tool_duplicates(self.tools, "pypi project", lambda t: t.pypi)
        errors += _cross_tool_duplicates(self.tools, "github repo", lambda t: (r.lower() for r in t.github))
        errors += _former_name_clashes(self.tools)
        errors += _cross_tool_duplicates(self.tools, "npm package", lambda t: t.npm)

        errors += [
            f"alias term {alias.term!r} of tool {tool_id!r} conflicts with alias {other.term!r} of tool {other_id!r}"
            for (alias, tool_id), (other, other_id) in _cross_alias_conflicts(self.tools)
        ]

        if errors:
            raise ValueError("\n".join(errors))
        self._by_id = {t.id: t for t in self.tools}
        return self

    def by_id(self, tool_id: str) -> Tool:
        """Return the tool with this id; raise KeyError naming it when it is not tracked."""
        try:
            return self._by_id[tool_id]
        except KeyError:
            raise KeyError(f"unknown tool id {tool_id!r}") from None

    def tools_in(self, category: str) -> tuple[Tool, ...]:
        """Tools listing this category (primary or not); raise KeyError for a category not in the taxonomy."""
        if category not in self.categories:
            raise KeyError(f"unknown category {category!r}")
        return tuple(t for t in self.tools if category in t.categories)

    def pypi_projects(self) -> dict[str, str]:
        """Map each PyPI project (PEP 503 normalized) to the id of the tool it measures."""
        return {project: t.id for t in self.tools for project in t.pypi}

    def github_repos(self) -> dict[str, str]:
        """Map each GitHub ``owner/repo`` (as written in the catalog) to the id of the tool it measures."""
        return {repo: t.id for t in self.tools for repo in t.github}

    def github_names(self) -> dict[str, tuple[str, str]]:
        """Map every lower-cased GitHub ``owner/repo``, current or former, to ``(tool_id, tracked repo)``.

        The tracked repo is written as in the catalog. A former name (``github_renamed``) maps to the tool's one
        repository; a current name maps to itself. Names are unique across tools (validated), so the map is total.
        """
        names: dict[str, tuple[str, str]] = {}
        for t in self.tools:
            for repo in t.github:
                names[repo.lower()] = (t.id, repo)
            for former in t.github_renamed:
                names[former.lower()] = (t.id, t.github[0])
        return names

    def npm_packages(self) -> dict[str, str]:
        """Map each npm package to the id of the tool it measures."""
        return {package: t.id for t in self.tools for package in t.npm}


def _alias_conflicts(aliases: Iterable[tuple[Alias, str]]) -> list[tuple[str, str]]:
    """``(earlier term, owner)`` for every alias conflicting with an earlier one; linear (bucketed by casefolded
    term, so only equal terms are ever compared)."""
    buckets: dict[str, list[Alias]] = {}
    out: list[tuple[str, str]] = []
    for alias, owner in aliases:
        bucket = buckets.setdefault(alias.term.casefold(), [])
        out += [(other.term, owner) for other in bucket if alias.conflicts_with(other)]
        bucket.append(alias)
    return out


def _cross_alias_conflicts(tools: Iterable[Tool]) -> list[tuple[tuple[Alias, str], tuple[Alias, str]]]:
    """Pairs (alias, tool id) of *different* tools that can match the same text, bucketed by casefolded term."""
    buckets: dict[str, list[tuple[Alias, str]]] = {}
    out = []
    for tool in tools:
        for alias in tool.aliases:
            bucket = buckets.setdefault(alias.term.casefold(), [])
            out += [
                ((alias, tool.id), (other, other_id))
                for other, other_id in bucket
                if other_id != tool.id and alias.conflicts_with(other)
            ]
            bucket.append((alias, tool.id))
    return out


def _duplicates(values: Iterable[str]) -> list[str]:
    seen: set[str] = set()
    dups: list[str] = []
    for value in values:
        if value in seen and value not in dups:
            dups.append(value)
        seen.add(value)
    return dups


def _former_name_clashes(tools: tuple[Tool, ...]) -> list[str]:
    """Current and former GitHub names share one namespace: a name in a file must point at one tracked repo."""
    current = {r.lower(): t.id for t in tools for r in t.github}
    former: dict[str, str] = {}
    errors: list[str] = []
    for tool in tools:
        for name in dict.fromkeys(r.lower() for r in tool.github_renamed):
            if name in current:
                errors.append(f"github_renamed {name!r} of {tool.id!r} is the current github repo of {current[name]!r}")
            elif name in former:
                errors.append(f"github_renamed {name!r} is listed by both {former[name]!r} and {tool.id!r}")
            else:
                former[name] = tool.id
    return errors


def _cross_tool_duplicates(tools: Iterable[Tool], what: str, values_of: Callable[[Tool], Iterable[str]]) -> list[str]:
    owner: dict[str, str] = {}
    errors: list[str] = []
    for tool in tools:
        for value in dict.fromkeys(values_of(tool)):
            if value in owner:
                errors.append(f"{what} {value!r} is listed by both {owner[value]!r} and {tool.id!r}")
            else:
                owner[value] = tool.id
    return errors
