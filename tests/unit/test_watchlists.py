"""Watchlists: validation against the catalog, the event rules on small hand-built histories, the Atom feed."""

from __future__ import annotations

import re
from datetime import date

import pytest
from madlake.watchlists.events import compute_events, event_id
from madlake.watchlists.feed import ATOM_NS, render_feed
from madlake.watchlists.io import WatchlistError, load_watchlists, parse_watchlists
from madlake.watchlists.models import Watchlist
from madlake.watchlists.rules import ARTEFACT_KINDS, NEWS_KINDS

RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")


# ------------------------------------------------------------------------------------------------ validation
def test_the_bundled_watchlists_load_and_name_a_default() -> None:
    wl = load_watchlists()
    assert wl.default_watchlist.name == "mad_leaders"
    assert {"olap_database", "nosql_database", "file_format", "mlops"} <= set(wl.default_watchlist.categories)
    assert all(d.conn_id for w in wl.watchlists for d in w.notify)


def test_an_unknown_tool_or_category_is_an_error_naming_the_entry() -> None:
    text = """
watchlists:
  - name: fine
    title: Fine
    categories: [olap_database]
  - name: broken
    title: Broken
    tools: [duckdb, not_a_tool]
    categories: [olap_databases]
"""
    with pytest.raises(WatchlistError) as err:
        parse_watchlists(text, "test.yaml")
    message = str(err.value)
    assert message.startswith("test.yaml: invalid watchlists")
    assert "watchlists[1] (name='broken').tools: unknown tool(s) ['not_a_tool']" in message
    assert "watchlists[1] (name='broken').categories: unknown category(ies) ['olap_databases']" in message
    assert "fine" not in message.split("\n", 1)[1]


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("watchlists:\n  - name: x\n    title: X\n    categories: [mlops]\n    events: [moonshot]\n", "moonshot"),
        ("watchlists:\n  - name: x\n    title: X\n", "names no tool and no category"),
        ("watchlists: []\n", "lists no watchlist"),
        ("watchlists:\n  - {name: x, title: X, tools: [duckdb]}\n  - {name: x, title: Y, tools: [duckdb]}\n", "twice"),
        ("watchlists:\n  - name: x\n    name: y\n    title: X\n", "duplicate key"),
        ("default: nope\nwatchlists:\n  - {name: x, title: X, tools: [duckdb]}\n", "default 'nope'"),
        (
            "watchlists:\n  - {name: x, title: X, tools: [duckdb], notify: [{conn_id: 'a b'}]}\n",
            "watchlists[0] (name='x').notify.0.conn_id",
        ),
        ("watchlists:\n  - {name: x, title: X, tools: [duckdb], webhook: 'https://hooks/x'}\n", "webhook"),
    ],
)
def test_bad_watchlists_are_refused_with_the_reason(text: str, needle: str) -> None:
    with pytest.raises(WatchlistError, match=re.escape(needle)):
        parse_watchlists(text, "w.yaml")


def test_the_airflow_variable_overrides_the_file(monkeypatch: pytest.MonkeyPatch) -> None:
    from madlake.watchlists.io import current_watchlists

    monkeypatch.setenv(
        "AIRFLOW_VAR_MADLAKE_WATCHLISTS", '{"watchlists": [{"name": "mine", "title": "Mine", "tools": ["duckdb"]}]}'
    )
    assert [w.name for w in current_watchlists().watchlists] == ["mine"]
    monkeypatch.setenv("AIRFLOW_VAR_MADLAKE_WATCHLISTS", "watchlists: [{name: bad, title: B, tools: [nope]}]")
    with pytest.raises(WatchlistError, match="Airflow Variable madlake_watchlists"):
        current_watchlists()


# ------------------------------------------------------------------------------------------------ rules
def _row(month: date, tool: str, rank: int, score: float, **kw: object) -> dict:
    return {
        "month": month,
        "tool_id": tool,
        "category": kw.get("category", "olap_database"),
        "score": score,
        "rank_in_category": rank,
        "signals": kw.get("signals", "downloads,stars"),
        "coverage": 0.8,
        "downloads_method": kw.get("method", "pip-30d"),
        "downloads_share": kw.get("share"),
        "growth_mom": kw.get("growth"),
        "growth_mom_spans_break": kw.get("spans_break", False),
        "is_sample": False,
    }


def _kinds(events: list[dict]) -> set[tuple[str, str, str]]:
    return {(f"{e['month']:%Y-%m}", e["tool_id"], e["kind"]) for e in events}


M1, M2, M3 = date(2024, 9, 1), date(2024, 10, 1), date(2024, 11, 1)


def test_an_overtake_is_news_with_its_numbers() -> None:
    rows = [_row(M1, "a", 1, 100.0), _row(M1, "b", 2, 98.0), _row(M2, "b", 1, 100.0), _row(M2, "a", 2, 97.5)]
    events = compute_events(rows, names={"a": "Alpha", "b": "Beta"})
    overtakes = [e for e in events if e["kind"] == "overtake"]
    assert len(overtakes) == 1
    e = overtakes[0]
    assert (e["tool_id"], e["other_tools"], e["rank"], e["previous_rank"], e["is_news"]) == ("b", "a", 1, 2, True)
    assert e["headline"].startswith("Beta overtook Alpha in OLAP database (2024-10): rank 2 → 1, score 100.0 vs 97.5")
    assert e["link"] == "tool/b.html"
    assert e["event_id"] == event_id(M2, "b", "overtake", "olap_database")


def test_a_rank_change_at_a_pypi_method_break_is_an_artefact_not_news() -> None:
    rows = [
        _row(M1, "a", 1, 100.0),
        _row(M1, "b", 2, 98.0),
        _row(M2, "b", 1, 100.0, method="all-shrinking", spans_break=True, growth=0.3),
        _row(M2, "a", 2, 90.0, method="all-shrinking", spans_break=True),
    ]
    events = compute_events(rows)
    assert not [e for e in events if e["is_news"]]
    assert ("2024-10", "b", "method_break") in _kinds(events)
    b = next(e for e in events if e["tool_id"] == "b")
    assert "pip-30d → all-shrinking" in b["headline"] and "not news" in b["headline"]
    assert '"suppressed": ["overtake"]' in b["details"]


def test_a_jump_from_a_signal_appearing_is_a_coverage_change_not_a_breakout() -> None:
    rows = [
        _row(M1, "a", 1, 100.0, signals="stars"),
        _row(M1, "b", 2, 60.0, signals="downloads"),
        _row(M2, "b", 1, 100.0, signals="downloads,stars", growth=2.0),
        _row(M2, "a", 2, 95.0, signals="stars"),
    ]
    events = compute_events(rows)
    assert _kinds(events) >= {("2024-10", "b", "coverage_change")}
    assert not {k for k in _kinds(events) if k[2] in ("overtake", "breakout", "entered_top")}
    # "a" lost rank 1 only because "b"'s coverage changed: explained, not news either
    a = [e for e in events if e["tool_id"] == "a"]
    assert all(not e["is_news"] for e in a)


def test_entering_the_top_n_a_breakout_and_a_gap_month() -> None:
    rows = [_row(M1, t, i + 1, 100.0 - 10 * i) for i, t in enumerate("abcd")]
    rows += [_row(M2, t, i + 1, 100.0 - 10 * i) for i, t in enumerate("abdc")]  # d passes c: 4 -> 3
    rows[-2] = _row(M2, "d", 3, 75.0, growth=0.9)  # +90 % relative to the category
    events = compute_events(rows)
    kinds = _kinds(events)
    assert {("2024-10", "d", "entered_top"), ("2024-10", "c", "left_top"), ("2024-10", "d", "overtake")} <= kinds
    assert ("2024-10", "d", "breakout") in kinds
    # a month with no index row is a gap: nothing is compared across it
    later = [_row(date(2025, 1, 1), t, i + 1, 100.0 - 10 * i) for i, t in enumerate("dcba")]
    assert not [e for e in compute_events(rows + later) if e["month"] == date(2025, 1, 1)]


def test_a_sustained_decline_is_reported_once_when_the_streak_reaches_k() -> None:
    months = [date(2023, m, 1) for m in range(1, 13)]
    rows = [_row(m, "a", 1, 100.0) for m in months]
    rows += [_row(m, "b", 2, 90.0 - i, growth=-0.1 if i else None) for i, m in enumerate(months)]
    events = [e for e in compute_events(rows) if e["kind"] == "sustained_decline"]
    assert [(e["tool_id"], f"{e['month']:%Y-%m}") for e in events] == [("b", "2023-07")]
    assert round(events[0]["value"], 3) == round(0.9**6 - 1, 3)


def test_an_all_time_high_needs_history_and_a_real_gain() -> None:
    months = [date(2022, 1, 1).replace(year=2022 + (i // 12), month=i % 12 + 1) for i in range(15)]
    shares = [0.20] * 12 + [0.205, 0.25, 0.24]
    rows = [_row(m, "a", 1, 100.0, share=s) for m, s in zip(months, shares, strict=True)]
    events = [e for e in compute_events(rows) if e["kind"] == "all_time_high"]
    assert [f"{e['month']:%Y-%m}" for e in events] == ["2023-02"]  # +2.5 % is not enough; +25 % is
    assert (events[0]["value"], events[0]["previous_value"]) == (0.25, 0.205)


def test_first_mention_and_idempotence() -> None:
    monthly = [
        {"month": date(2021, 6, 1), "tool_id": "a", "primary_category": "mlops", "mentions": 0, "reddit_texts": 10},
        {"month": date(2021, 7, 1), "tool_id": "a", "primary_category": "mlops", "mentions": 3, "reddit_texts": 10},
        {"month": date(2021, 8, 1), "tool_id": "a", "primary_category": "mlops", "mentions": 5, "reddit_texts": 10},
        {"month": date(2021, 8, 1), "tool_id": "b", "primary_category": "mlops", "mentions": None},
    ]
    rows = [_row(M1, "a", 1, 100.0), _row(M1, "b", 2, 98.0), _row(M2, "b", 1, 100.0), _row(M2, "a", 2, 97.5)]
    monthly.append(  # c: mentioned in the first covered month: coverage started, not news
        {"month": date(2021, 6, 1), "tool_id": "c", "primary_category": "mlops", "mentions": 2, "reddit_texts": 10}
    )
    first = [e for e in compute_events(rows, monthly) if e["kind"] == "first_mention"]
    assert sorted((e["tool_id"], f"{e['month']:%Y-%m}", e["value"], e["is_news"]) for e in first) == [
        ("a", "2021-07", 3.0, True),
        ("c", "2021-06", 2.0, False),
    ]
    assert compute_events(rows, monthly) == compute_events(list(reversed(rows)), list(reversed(monthly)))
    assert set(NEWS_KINDS).isdisjoint(ARTEFACT_KINDS)


# ------------------------------------------------------------------------------------------------ the feed
def validate_atom(data: bytes) -> list[str]:
    """Check an Atom 1.0 document (RFC 4287): well-formed, the feed's and every entry's required elements, unique
    entry ids, RFC 3339 dates, links with href. Returns the entry ids."""
    from lxml import etree

    root = etree.fromstring(data)
    ns = {"a": ATOM_NS}
    assert root.tag == f"{{{ATOM_NS}}}feed"
    for tag in ("id", "title", "updated"):
        assert len(root.findall(f"a:{tag}", ns)) == 1, f"feed needs exactly one {tag}"
    assert RFC3339.match(root.findtext("a:updated", namespaces=ns) or "")
    feed_has_author = root.find("a:author/a:name", ns) is not None
    ids = []
    for entry in root.findall("a:entry", ns):
        for tag in ("id", "title", "updated"):
            assert len(entry.findall(f"a:{tag}", ns)) == 1, f"entry needs exactly one {tag}"
        assert RFC3339.match(entry.findtext("a:updated", namespaces=ns) or "")
        assert feed_has_author or entry.find("a:author/a:name", ns) is not None
        assert entry.find("a:link[@rel='alternate']", ns).get("href")
        ids.append(entry.findtext("a:id", namespaces=ns))
    assert len(ids) == len(set(ids)), "entry ids must be unique"
    assert all(i and i.startswith("urn:") for i in ids)
    return ids


def test_the_feed_is_valid_atom_and_deterministic() -> None:
    rows = [_row(M1, "a", 1, 100.0), _row(M1, "b", 2, 98.0), _row(M2, "b", 1, 100.0), _row(M2, "a", 2, 97.5)]
    rows += [_row(M3, "b", 1, 100.0, method="all-shrinking"), _row(M3, "a", 2, 80.0, method="all-shrinking")]
    events = compute_events(rows, names={"a": "A & <Co>", "b": "B"})
    w = Watchlist(name="olap", title="OLAP", categories=("olap_database",), events=("overtake", "method_break"))
    data = render_feed(events, w)
    ids = validate_atom(data)
    assert ids == [f"urn:madlake:event:{e['event_id']}" for e in reversed(events) if e["kind"] in w.events]
    assert b"A &amp; &lt;Co&gt;" in data
    assert render_feed(events, w) == data
    empty = render_feed([], w, generated_for=date(2026, 3, 1))
    assert validate_atom(empty) == []
