"""Catalog holes (issue #13, item 7): entries the catalog accepted although nothing downstream can use them.

``github: [../..]`` became a URL path, aliases ``.``, ``-``, a zero-width space or 100,000 characters reached the
mention matcher, and validation was quadratic in the number of aliases (10,000 aliases: 24 s). Repositories now follow
the star-history params' rule (owner/name, GitHub's characters and lengths, never ``.``/``..``), texts must carry a
letter or digit, no invisible characters and bounded length, and alias conflicts are found by bucketing.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
from madlake.catalog import load_catalog
from madlake.catalog.models import GITHUB_REPO_RE, ToolCatalog

from tests.unit.test_catalog import _load_error, _tool, _valid

BAD_REPOS = ["../..", "./x", "a/..", "a/.", "..", "a/b/c", "a/b\n", "a /b", "a/b?x=1", "a%2F/b"]


@pytest.mark.parametrize("repo", [*BAD_REPOS, "o" * 40 + "/b", "a/" + "r" * 101])
def test_malformed_github_repos_are_refused(tmp_path: Path, repo: str) -> None:
    data = _valid()
    data["tools"][0]["github"] = [repo]
    message = _load_error(tmp_path, data)
    assert "tool 'alpha'" in message and "owner/repo" in message


def test_real_repository_names_still_pass() -> None:
    for repo in ("duckdb/duckdb", "apache/spark", "great-expectations/great_expectations", "a/b.c", "x/.github"):
        assert GITHUB_REPO_RE.match(repo), repo


@pytest.mark.parametrize(
    ("term", "reason"),
    [
        (".", "no letter or digit"),
        ("-", "no letter or digit"),
        ("\u200b", "no letter or digit"),
        ("Duck\u200bDB", "invisible or control characters (U+200B)"),
        ("Spark\u202e", "invisible or control characters (U+202E)"),
        ("tab\there", "invisible or control characters (U+0009)"),
        ("x" * 100_000, "longer than 100 characters"),
    ],
)
def test_unusable_alias_terms_are_refused(tmp_path: Path, term: str, reason: str) -> None:
    data = _valid()
    data["tools"][0]["aliases"] = [{"term": "Alpha"}, {"term": term}]
    message = _load_error(tmp_path, data)
    assert reason in message and "tools[0]" in message
    assert len(message) < 2_000, "the error echoed a huge value"


def test_unusable_context_phrases_and_names_are_refused(tmp_path: Path) -> None:
    data = _valid()
    data["tools"][0]["aliases"] = [{"term": "Alpha", "requires_context": ["\u200b"]}]
    assert "phrase" in _load_error(tmp_path, data)
    data = _valid()
    data["tools"][1]["name"] = "\u2063"
    assert "name" in _load_error(tmp_path, data)


def _many_aliases(n: int) -> dict[str, Any]:
    tools = [_tool(f"t{i}") | {"aliases": [{"term": f"term {i} {j}"} for j in range(10)]} for i in range(n // 10)]
    return {"categories": {"query_engine": "Engines", "orchestration": "Orchestrators"}, "tools": tools}


@pytest.mark.timeout(30)
def test_ten_thousand_aliases_validate_and_conflicts_are_still_found() -> None:
    started = time.perf_counter()
    catalog = ToolCatalog.model_validate(_many_aliases(10_000))
    seconds = time.perf_counter() - started
    print(f"10,000 aliases validated in {seconds:.2f}s (was 24 s)")
    assert sum(len(t.aliases) for t in catalog.tools) == 10_000
    clash = _many_aliases(10_000)
    clash["tools"][-1]["aliases"].append({"term": "TERM 0 0"})
    with pytest.raises(ValueError, match="alias term 'TERM 0 0' of tool 't999' conflicts with alias 'term 0 0'"):
        ToolCatalog.model_validate(clash)


def test_the_bundled_catalog_passes() -> None:
    assert len(load_catalog().tools) > 100
