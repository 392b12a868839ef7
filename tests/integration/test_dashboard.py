"""The dashboard end to end on gold v2: queries, site build, publish (local and S3 on moto), real headless Chromium.

The site is built from generated gold v2 (``bench/synth``, every row ``is_sample``) shaped like the real history:
2018-02 → 2026-10 monthly, tools launching mid-history, months below PyPI's list cut-off, PyPI method breaks, Reddit
coverage in a few periods only, and Reddit rows whose stored permalinks point off Reddit. The answer cards run the
analyst questions of ``tests/fixtures/dashboard_questions`` (gold v2 SQL) through :mod:`madlake.metrics.ask`, as the
dashboard runs ``madlake/sql/questions``.

The browser tests drive Debian's ``chromium`` over the DevTools protocol (websockets), load every page (served on
127.0.0.1, and once from ``file://``), and check: no console error, every chart drew one path per series it was given,
gaps stay gaps, method breaks are marked, internal links resolve, the compare page reacts to its controls and names a
bad signal, and the layout does not overflow a phone's width. Screenshots land in ``test-artifacts/``. Without
chromium they are skipped, except under ``CI`` where they fail.
"""

from __future__ import annotations

import base64
import contextlib
import functools
import http.server
import json
import os
import re
import shutil
import subprocess
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from datetime import date
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.integration

END = date(2026, 10, 31)
RUN_DAY = date(2026, 11, 1)
MONTHS = 105  # 2018-02 .. 2026-10
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
QUESTIONS = Path(__file__).resolve().parents[1] / "fixtures" / "dashboard_questions"


def _chart_specs(html: str) -> dict[str, dict[str, Any]]:
    """Every chart's JSON spec in a page, by chart id."""
    ids = re.findall(r'data-chart="([^"]+)"', html)
    out = {}
    for cid in ids:
        m = re.search(r'<script type="application/json" id="' + re.escape(cid) + r'">(.*?)</script>', html, re.S)
        assert m, cid
        out[cid] = json.loads(m.group(1))
    return out


# ----------------------------------------------------------------------------------------------------- the synth site
@pytest.fixture(scope="module")
def synth_lakehouse(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """A lakehouse with generated gold v2 for 30 tools (every category), 2018-02 → 2026-10, mentions, freshness."""
    from madlake.lakehouse.catalog import reset_catalog_cache
    from madlake.ops.freshness import refresh_source_freshness

    from bench.synth import dashboard as synth

    home = tmp_path_factory.mktemp("dash-lakehouse")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("MADLAKE_HOME", str(home))
        mp.setenv("MADLAKE_PROFILE", "local")
        mp.setattr("madlake.metrics.ask.QUERIES_DIR", QUESTIONS)
        reset_catalog_cache()
        tools = synth.pick_tools(30)
        gold = synth.generate(tools, END)
        synth.write_gold(gold)
        synth.write_mentions(synth.generate_mentions(tools, END))
        synth.write_mentions(synth.hostile_mentions(tools[0], END), append=True)
        from madlake.watchlists.events import build_events  # tool_events, computed from the generated gold

        build_events()
        refresh_source_freshness(RUN_DAY)
        yield {"home": home, "tools": tools, "gold": gold}
        reset_catalog_cache()


@pytest.fixture(scope="module")
def site(synth_lakehouse: dict[str, Any], tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    from madlake.dashboard.site import build_site

    out = tmp_path_factory.mktemp("dash-site") / "site"
    summary = build_site(out)
    return {"dir": out, "summary": summary, "manifest": json.loads((out / "site.json").read_text())}


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.hrefs: list[str] = []
        self.srcs: list[str] = []
        self.anchors: list[tuple[str, str]] = []
        self._href: str | None = None
        self._text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "a" and a.get("href"):
            self.hrefs.append(a["href"] or "")
            self._href, self._text = a["href"], []
        if tag in ("script", "img", "iframe") and a.get("src"):
            self.srcs.append(a["src"] or "")
        if tag == "link" and a.get("href"):
            self.srcs.append(a["href"] or "")

    def handle_data(self, data: str) -> None:
        if self._href is not None:
            self._text.append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "a" and self._href is not None:
            self.anchors.append((self._href, "".join(self._text).strip()))
            self._href = None


def _parse(html: str) -> _Links:
    p = _Links()
    p.feed(html)
    return p


# ------------------------------------------------------------------------------------------------------------ queries
def test_every_query_gives_the_same_rows_on_the_snapshot_engine_and_on_the_parquet_views(synth_lakehouse) -> None:
    import sqlglot
    from madlake.dashboard.engine import DashboardEngine
    from madlake.dashboard.queries import QUERIES, QueryRunner, load_sql
    from madlake.sql.engine import LocalEngine

    snap = DashboardEngine()
    views = LocalEngine()
    fast, reference = QueryRunner(snap, snap.available_tables()), QueryRunner(views, views.available_tables())
    tool = synth_lakehouse["tools"][0].id
    nonempty = 0
    for name, q in QUERIES.items():
        params = tuple(
            tool if p == "duckdb" else date(2026, 10, 1) if p == "__month__" else p for p in q.example_params
        )
        got, want = fast.run(name, params), reference.run(name, params)
        assert got == want, name
        nonempty += bool(got)
        # the Athena text of every query (the file as written) parses as Trino
        assert sqlglot.parse_one(load_sql(name), read="trino") is not None
        assert "?" in load_sql(name) or not q.example_params, f"{name} takes parameters but binds none"
    assert nonempty >= len(QUERIES) - 2  # only the breakouts (none generated) may be empty


# --------------------------------------------------------------------------------------------------------------- site
def test_site_has_every_page_and_answers_the_questions(site, synth_lakehouse) -> None:
    import pyarrow.compute as pc

    manifest = site["manifest"]
    tools = synth_lakehouse["tools"]
    pages = set(manifest["pages"])
    assert {"index.html", "compare.html", "freshness.html"} <= pages
    assert {f"tool/{t.id}.html" for t in tools} <= pages
    assert {f"category/{c}.html" for t in tools for c in t.categories} <= pages
    assert (manifest["first_month"], manifest["data_date"]) == ("2018-02-01", "2026-10-01")
    assert manifest["is_sample"] is True
    answers = {a["key"]: a for a in manifest["answers"]}
    assert set(answers) == {p.stem for p in QUESTIONS.glob("*.sql")}
    assert all(a["answer"] not in ("no data yet", "could not be answered") for a in answers.values()), answers

    # The OLAP answer, recomputed independently from the generated index: top open-source OLAP tool, newest month.
    pidx = synth_lakehouse["gold"].popularity_index
    last = pc.max(pidx.column("month")).as_py()
    open_source = {t.id for t in tools if t.open_source}
    rows = [r for r in pidx.to_pylist() if r["month"] == last and r["category"] == "olap_database"]
    best = max((r for r in rows if r["tool_id"] in open_source), key=lambda r: r["score"])
    name = {t.id: t.name for t in tools}[best["tool_id"]]
    olap = answers["most_popular_open_source_olap"]
    assert olap["answer"] == name
    assert olap["as_of"] == "October 2026"
    # ... and says what it is based on: the signals present with their sources, and the coverage
    basis = olap["basis"][0]
    assert basis.startswith(f"{name} (Oct 2026): based on ")
    for s in best["signals"].split(","):
        assert f"{s} ({best[f'{s}_source']}" in basis
    assert f"coverage {best['coverage'] * 100:.0f} %" in basis
    assert ("judged on one signal only" in basis) == (best["n_signals"] == 1)
    then_now = answers["top_mlops_then_and_now"]
    assert "three years ago: " in then_now["answer"] and "today: " in then_now["answer"]
    index = (site["dir"] / "index.html").read_text()
    assert 'data-testid="sample-banner"' in index and "2026-10" in index


def test_one_signal_answers_say_so(site, synth_lakehouse) -> None:
    """A tool judged on one signal only is labelled so on its category page and in the tool list."""
    pidx = synth_lakehouse["gold"].popularity_index.to_pylist()
    single = next(r for r in pidx if r["month"] == date(2026, 10, 1) and r["n_signals"] == 1)
    html = (site["dir"] / "category" / f"{single['category']}.html").read_text()
    row = re.search(r'<tr data-tool="' + single["tool_id"] + r'">(.*?)</tr>', html, re.S)
    assert row and "judged on one signal only" in row.group(1)
    assert f"{single['signals']} ({single[single['signals'] + '_source']}" in row.group(1)


def test_every_tool_chart_covers_the_whole_history_and_draws_gaps_not_zeros(site, synth_lakehouse) -> None:
    tmm = synth_lakehouse["gold"].tool_monthly_metrics.to_pylist()
    by_tool: dict[str, list[dict]] = {}
    for r in tmm:
        by_tool.setdefault(r["tool_id"], []).append(r)
    late = next(t for t, rows in by_tool.items() if rows[0]["stars"] is None and rows[0]["downloads"] is None)
    below = next(r for r in tmm if r["downloads_below_list"])
    for tool in synth_lakehouse["tools"]:
        specs = _chart_specs((site["dir"] / "tool" / f"{tool.id}.html").read_text())
        for cid, spec in specs.items():
            for s in spec["series"]:
                xs = [p[0] for p in s["points"]]
                assert len(xs) == MONTHS and xs[0] == "2018-02-01" and xs[-1] == "2026-10-01", (tool.id, cid)
        rows = {r["month"].isoformat(): r for r in by_tool[tool.id]}
        for name, column in (("c-downloads", "downloads_per_day"), ("c-stars", "stars"), ("c-mentions", "mentions")):
            for x, y, *_ in specs[name]["series"][0]["points"]:
                assert y == rows[x][column], (tool.id, name, x)  # null stays null: never 0 where data is missing
        marks = {m["x"] for m in specs["c-downloads"]["marks"]}
        assert {"2024-11-01", "2024-12-01", "2025-07-01"} <= marks
        assert {m["x"] for m in specs["c-index"]["marks"]} == marks
    # a tool that launched mid-history starts with gaps
    first = _chart_specs((site["dir"] / "tool" / f"{late}.html").read_text())["c-stars"]["series"][0]["points"][0]
    assert first[1] is None
    # below the list's cut-off: a gap with the bound as its note, and the bound in the text, never 0
    page = (site["dir"] / "tool" / f"{below['tool_id']}.html").read_text()
    point = next(
        p for p in _chart_specs(page)["c-downloads"]["series"][0]["points"] if p[0] == below["month"].isoformat()
    )
    assert point == [below["month"].isoformat(), None, f"< {below['downloads_list_min']:,}"]
    assert f"{below['month']:%Y-%m} &lt; {below['downloads_list_min']:,}" in page


def test_mentions_are_null_outside_reddit_coverage_and_zero_only_inside(site, synth_lakehouse) -> None:
    from bench.synth.dashboard import REDDIT_COVERED

    tool = synth_lakehouse["tools"][1].id
    points = _chart_specs((site["dir"] / "tool" / f"{tool}.html").read_text())["c-mentions"]["series"][0]["points"]
    for x, y, *_ in points:
        month = date.fromisoformat(x)
        inside = any(a <= month <= b for a, b in REDDIT_COVERED) or month >= date(2026, 8, 1)
        assert (y is not None) == inside, x


def test_site_is_self_contained(site) -> None:
    for path in site["dir"].rglob("*.html"):
        html = path.read_text()
        links = _parse(html)
        for src in links.srcs:
            assert not re.match(r"^(https?:)?//", src), f"{path.name} loads {src} from the network"
            if not src.startswith("data:"):
                assert (path.parent / src).resolve().is_file(), f"{path.name}: {src} is not shipped with the site"
        assert "cdn" not in html.lower()


def test_reddit_links_are_built_from_ids_and_external_links_show_their_host(site, synth_lakehouse) -> None:
    """Issue 13 item 6: a stored permalink pointing at https://evil.example is never shown as a reddit.com link."""
    tool = synth_lakehouse["tools"][0]
    page = _parse((site["dir"] / "tool" / f"{tool.id}.html").read_text())
    assert ("https://www.reddit.com/r/dataengineering/comments/spoofed1/", "thread on reddit.com") in page.anchors
    assert ("https://evil.example/phish", "external link (evil.example)") in page.anchors
    for path in (site["dir"] / "tool").glob("*.html"):
        for href, text in _parse(path.read_text()).anchors:
            if "reddit.com" in text:
                assert href.startswith("https://www.reddit.com/r/"), (path.name, href, text)
            if href.startswith("http") and not href.startswith(
                ("https://www.reddit.com/", "https://pypi.org/", "https://github.com/", "https://www.npmjs.com/")
            ):
                host = urllib.parse.urlsplit(href).hostname.removeprefix("www.")
                assert host in text, (path.name, href, text)  # an external link shows its host
    assert "https://evil.example/r/dataengineering/" not in "".join(
        p.read_text() for p in (site["dir"] / "tool").glob("*.html")
    )


def test_sample_banner_shows_only_over_sample_rows(lakehouse: Path, tmp_path: Path) -> None:
    import pyarrow as pa
    from madlake.dashboard.site import build_site

    from bench.synth import dashboard as synth

    def flag(table: pa.Table, values: list[bool]) -> pa.Table:
        return table.set_column(table.schema.get_field_index("is_sample"), "is_sample", pa.array(values))

    tools = synth.pick_tools(6)
    gold = synth.generate(tools, date(2026, 8, 31), start=date(2025, 1, 1))
    tmm, pidx = gold.tool_monthly_metrics, gold.popularity_index
    # the real demo's case: no row is sample, so no banner
    synth.write_gold(synth.SynthGold(tools, flag(tmm, [False] * tmm.num_rows), flag(pidx, [False] * pidx.num_rows)))
    site = build_site(tmp_path / "real")
    assert not site.is_sample
    assert 'data-testid="sample-banner"' not in (site.out_dir / "index.html").read_text()
    assert "SAMPLE" not in (site.out_dir / "index.html").read_text().upper().replace("SAMPLE-BANNER", "")


def test_sample_banner_shows_when_one_shown_row_is_sample(lakehouse: Path, tmp_path: Path) -> None:
    import pyarrow as pa
    from madlake.dashboard.site import build_site

    from bench.synth import dashboard as synth

    tools = synth.pick_tools(6)
    gold = synth.generate(tools, date(2026, 8, 31), start=date(2025, 1, 1))
    tmm, pidx = gold.tool_monthly_metrics, gold.popularity_index
    one = [False] * tmm.num_rows
    one[3] = True
    pidx = pidx.set_column(pidx.schema.get_field_index("is_sample"), "is_sample", pa.array([False] * pidx.num_rows))
    tmm = tmm.set_column(tmm.schema.get_field_index("is_sample"), "is_sample", pa.array(one))
    synth.write_gold(synth.SynthGold(tools, tmm, pidx))
    site = build_site(tmp_path / "one")
    assert site.is_sample
    html = (site.out_dir / "index.html").read_text()
    assert 'data-testid="sample-banner"' in html and "1 monthly metric rows are flagged is_sample" in html


def test_build_without_gold_data_fails_clearly(lakehouse: Path, tmp_path: Path) -> None:
    from madlake.dashboard.site import NoGoldDataError, build_site

    with pytest.raises(NoGoldDataError, match="tool_monthly_metrics has no rows"):
        build_site(tmp_path / "site")


def test_freshness_page_shows_each_sources_coverage_period(site) -> None:
    html = (site["dir"] / "freshness.html").read_text()
    row = re.search(r'<tr class="[^"]*" data-table="popularity_index">(.*?)</tr>', html, re.S)
    assert row, "popularity_index is on the freshness page"
    assert "2018-02-01 → 2026-10-01" in row.group(1) and f">{MONTHS}<" in row.group(1)


def test_package_generates_no_data() -> None:
    """Issue 11: nothing under include/madlake generates data for the dashboard (the generator is bench/synth)."""
    package = Path(__file__).resolve().parents[2] / "include" / "madlake" / "dashboard"
    assert not (package / "sample.py").exists()
    for path in package.rglob("*.py"):
        text = path.read_text()
        assert "numpy" not in text and "random" not in text, path


# ------------------------------------------------------------------------------------------------------------ publish
def test_publish_locally_swaps_the_whole_site(site, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from madlake.dashboard.publish import MARKER, publish_site

    monkeypatch.setenv("MADLAKE_DASHBOARD_ROOTS", str(tmp_path))
    target = tmp_path / "dashboard"
    older = tmp_path / "older-build"
    shutil.copytree(site["dir"], older)
    (older / "stale.html").write_text("a page the next build no longer has")
    publish_site(older, str(target))
    assert (target / "stale.html").exists() and (target / MARKER).is_file()
    first = publish_site(site["dir"], str(target))
    assert not (target / "stale.html").exists(), "a page of the previous build was left behind"
    assert Path(first.index).is_file()
    again = publish_site(site["dir"], str(target))
    assert (again.files, again.bytes) == (first.files, first.bytes)
    # no staging or retired copies left behind
    assert sorted(p.name for p in tmp_path.iterdir()) == ["dashboard", "older-build"]


def test_publish_to_s3_uploads_with_content_types_and_removes_stale_files(
    site, moto_server: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    import boto3
    from madlake.config import Settings
    from madlake.dashboard.publish import MARKER, UnsafeTargetError, publish_site

    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("MADLAKE_DASHBOARD_ROOTS", "s3://dash/site")
    s3 = boto3.client("s3", endpoint_url=moto_server, region_name="us-east-1")
    s3.create_bucket(Bucket="dash")
    s3.put_object(Bucket="dash", Key="site/user-notes/keep.txt", Body=b"not ours")
    settings = Settings(profile="local", s3_endpoint=moto_server)
    with pytest.raises(UnsafeTargetError, match="not a previous dashboard build"):
        publish_site(site["dir"], "s3://dash/site/user-notes", settings)
    older = tmp_path / "older-build"
    shutil.copytree(site["dir"], older)
    (older / "old-page.html").write_text("old")
    publish_site(older, "s3://dash/site/dashboard", settings)
    result = publish_site(site["dir"], "s3://dash/site/dashboard", settings)
    pages = s3.get_paginator("list_objects_v2").paginate(Bucket="dash", Prefix="site/dashboard/")
    keys = {o["Key"] for page in pages for o in page["Contents"] if not o["Key"].endswith("/")}  # not dir markers
    assert result.deleted == 1 and "site/dashboard/old-page.html" not in keys
    assert len(keys) == result.files + 1 == len([p for p in site["dir"].rglob("*") if p.is_file()]) + 1
    assert f"site/dashboard/{MARKER}" in keys
    assert s3.get_object(Bucket="dash", Key="site/user-notes/keep.txt")["Body"].read() == b"not ours"
    head = s3.head_object(Bucket="dash", Key="site/dashboard/index.html")
    assert head["ContentType"].startswith("text/html")
    assert s3.head_object(Bucket="dash", Key="site/dashboard/assets/madchart.js")["ContentType"].startswith(
        "text/javascript"
    )


# ------------------------------------------------------------------------------------------------------------ browser


# ------------------------------------------------------------------------------------------------------------ browser
class Browser:
    """Just enough of the Chrome DevTools Protocol: targets, navigation, evaluation, console errors, screenshots."""

    def __init__(self, exe: str, profile_dir: Path) -> None:
        from websockets.sync.client import connect

        self.proc = subprocess.Popen(
            [
                exe,
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-dev-shm-usage",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--disable-extensions",
                "--no-first-run",
                "--no-default-browser-check",
                "--remote-debugging-port=0",
                "--remote-allow-origins=*",
                f"--user-data-dir={profile_dir}",
                "about:blank",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        port_file = profile_dir / "DevToolsActivePort"
        deadline = time.monotonic() + 30
        while not (port_file.exists() and len(port_file.read_text().splitlines()) >= 2):
            if time.monotonic() > deadline or self.proc.poll() is not None:
                self.close()
                raise RuntimeError("chromium did not start its DevTools endpoint")
            time.sleep(0.05)
        port, path = port_file.read_text().splitlines()[:2]
        self.ws = connect(f"ws://127.0.0.1:{port}{path}", max_size=None, open_timeout=10)
        self._next = 0
        self.events: list[dict[str, Any]] = []

    def send(self, method: str, params: dict[str, Any] | None = None, session: str | None = None) -> dict[str, Any]:
        self._next += 1
        msg: dict[str, Any] = {"id": self._next, "method": method, "params": params or {}}
        if session:
            msg["sessionId"] = session
        self.ws.send(json.dumps(msg))
        deadline = time.monotonic() + 30
        while True:
            reply = json.loads(self.ws.recv(timeout=max(0.1, deadline - time.monotonic())))
            if reply.get("id") == self._next:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return dict(reply.get("result", {}))
            self.events.append(reply)

    def wait_for(self, method: str, session: str, timeout: float = 30) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            for i, ev in enumerate(self.events):
                if ev.get("method") == method and ev.get("sessionId") == session:
                    return self.events.pop(i)
            self.events.append(json.loads(self.ws.recv(timeout=max(0.1, deadline - time.monotonic()))))

    def page(self, width: int = 1280, height: int = 900, mobile: bool = False) -> Page:
        target = self.send("Target.createTarget", {"url": "about:blank"})["targetId"]
        session = self.send("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        for domain in ("Page", "Runtime", "Log", "Network"):
            self.send(f"{domain}.enable", session=session)
        self.send(
            "Emulation.setDeviceMetricsOverride",
            {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": mobile},
            session=session,
        )
        return Page(self, session)

    def close(self) -> None:
        with contextlib.suppress(Exception):  # best effort while tearing down
            self.ws.close()
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()


class Page:
    def __init__(self, browser: Browser, session: str) -> None:
        self.b = browser
        self.session = session

    def goto(self, url: str) -> None:
        self.b.events = [e for e in self.b.events if e.get("sessionId") != self.session]
        result = self.b.send("Page.navigate", {"url": url}, self.session)
        assert not result.get("errorText"), f"{url}: {result.get('errorText')}"
        self.b.wait_for("Page.loadEventFired", self.session)

    def eval(self, expression: str) -> Any:
        result = self.b.send(
            "Runtime.evaluate", {"expression": expression, "returnByValue": True, "awaitPromise": True}, self.session
        )
        if "exceptionDetails" in result:
            raise AssertionError(f"JS error: {result['exceptionDetails']}")
        return result["result"].get("value")

    def errors(self) -> list[str]:
        self.eval("1")  # flush: events emitted so far arrive before this reply
        out = []
        for ev in self.b.events:
            if ev.get("sessionId") != self.session:
                continue
            p = ev.get("params", {})
            method = ev.get("method")
            if method == "Runtime.exceptionThrown":
                out.append(f"exception: {p['exceptionDetails'].get('exception', {}).get('description')}")
            elif method == "Runtime.consoleAPICalled" and p.get("type") in ("error", "assert"):
                out.append(f"console.{p['type']}: {[a.get('value') for a in p.get('args', [])]}")
            elif method == "Log.entryAdded" and p["entry"].get("level") == "error":
                out.append(f"log: {p['entry'].get('text')} {p['entry'].get('url', '')}")
            elif method == "Network.responseReceived" and p["response"]["status"] >= 400:
                out.append(f"HTTP {p['response']['status']}: {p['response']['url']}")
            elif method == "Network.loadingFailed" and not p.get("canceled"):
                out.append(f"failed: {p.get('errorText')}")
        return out

    def screenshot(self, path: Path) -> None:
        metrics = self.b.send("Page.getLayoutMetrics", session=self.session)
        size = metrics.get("cssContentSize") or metrics["contentSize"]
        clip = {"x": 0, "y": 0, "width": size["width"], "height": min(size["height"], 6000), "scale": 1}
        shot = self.b.send(
            "Page.captureScreenshot", {"format": "png", "clip": clip, "captureBeyondViewport": True}, self.session
        )
        path.write_bytes(base64.b64decode(shot["data"]))


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Browser]:
    if CHROMIUM is None:
        if os.environ.get("CI"):
            pytest.fail("chromium is required in CI (.ci/run installs it)")
        pytest.skip("chromium is not installed (apt-get install chromium); the browser tests need a real browser")
    b = Browser(CHROMIUM, tmp_path_factory.mktemp("chromium-profile"))
    yield b
    b.close()


@pytest.fixture(scope="module")
def server(site) -> Iterator[str]:
    handler = functools.partial(_QuietHandler, directory=str(site["dir"]))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/"
    httpd.shutdown()
    httpd.server_close()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


_CHARTS_JS = """
Array.from(document.querySelectorAll('figure[data-chart]')).map(f => {
  const spec = JSON.parse(document.getElementById(f.dataset.chart).textContent);
  return {id: f.dataset.chart,
          expected: spec.series.filter(s => s.points.some(p => p[1] !== null)).map(s => s.name),
          drawn: Array.from(f.querySelectorAll('path.series')).map(p => p.dataset.series),
          moves: Array.from(f.querySelectorAll('path.series')).map(p => (p.getAttribute('d').match(/M/g) || []).length),
          gaps: spec.series.map(s => {
            const v = s.points.map(p => p[1] !== null);
            const a = v.indexOf(true), b = v.lastIndexOf(true);
            return a >= 0 && v.slice(a, b + 1).includes(false);
          }),
          marks: f.querySelectorAll('g.mark-group').length,
          legend: f.querySelectorAll('ul.legend li').length};
})
"""


def test_every_page_loads_without_errors_and_draws_its_series(site, server, browser) -> None:
    page = browser.page()
    checked = gapped = 0
    for path in site["manifest"]["pages"]:
        page.goto(server + path)
        assert page.errors() == [], path
        for chart in page.eval(_CHARTS_JS):
            drawn = set(chart["drawn"])
            assert set(chart["expected"]) <= drawn, f"{path} {chart['id']}: drew {drawn}, expected {chart['expected']}"
            for moves, gap in zip(chart["moves"], chart["gaps"], strict=False):
                if gap:  # a gap inside a series is drawn as a break of the line (a new M), not a drop to 0
                    assert moves >= 2, f"{path} {chart['id']}: a gap was drawn as a line"
                    gapped += 1
            checked += 1
        if path.startswith("tool/"):
            charts = {c["id"]: c for c in page.eval(_CHARTS_JS)}
            if charts["c-index"]["expected"]:  # (a tool without any signal has an empty page, said so)
                assert charts["c-index"]["drawn"][0] == "score", path
            if charts["c-downloads"]["expected"]:  # a tool with PyPI data: the method breaks are on its chart
                assert charts["c-downloads"]["marks"] >= 3, f"{path}: PyPI method breaks not marked"
            assert (
                page.eval("document.querySelectorAll('a.reddit-link[href^=\"https://www.reddit.com/r/\"]').length") > 0
            )
    assert checked > 100 and gapped > 20


def test_every_internal_link_resolves(site, server) -> None:
    seen: set[str] = set()
    queue = [server + "index.html"]
    while queue:
        url = queue.pop()
        if url in seen:
            continue
        seen.add(url)
        with urllib.request.urlopen(url, timeout=10) as resp:
            assert resp.status == 200, url
            body = resp.read().decode("utf-8", "replace")
        if not url.endswith(".html"):
            continue
        for href in _parse(body).hrefs:
            if re.match(r"^[a-z]+:", href):  # external (reddit, pypi, github, homepage) or data: links
                continue
            target = urllib.parse.urljoin(url, href).split("#")[0]
            if target.startswith(server) and target not in seen:
                queue.append(target)
    pages = {u.removeprefix(server) for u in seen}
    assert set(site["manifest"]["pages"]) <= pages


def test_compare_page_picks_tools_toggles_log_and_aligns_by_first_release(site, server, browser, synth_lakehouse):
    ids = [t.id for t in synth_lakehouse["tools"][:3]]
    page = browser.page()
    page.goto(f"{server}compare.html#tools={','.join(ids)}&signal=downloads_per_day")
    paths = "document.querySelectorAll('#compare-chart path.series').length"
    assert page.eval(paths) == 3
    assert page.errors() == []
    assert page.eval("document.getElementById('compare-error').hidden") is True
    assert page.eval("document.querySelectorAll('#compare-chart g.mark-group').length") >= 3
    linear = page.eval("document.querySelector('#compare-chart path.series').getAttribute('d')")
    page.eval("document.getElementById('log').click()")
    assert page.eval(paths) == 3
    assert page.eval("document.querySelector('#compare-chart path.series').getAttribute('d')") != linear
    assert "log=1" in page.eval("location.hash")
    page.eval("document.getElementById('align').click()")
    assert "months since first release" in page.eval("document.getElementById('compare-chart').textContent")
    # one tool is not a comparison; a sixth cannot be picked
    page.eval(f"document.querySelector('#tool-list input[value=\"{ids[1]}\"]').click()")
    page.eval(f"document.querySelector('#tool-list input[value=\"{ids[2]}\"]').click()")
    assert page.eval(paths) == 0
    assert "Pick 2 to 5" in page.eval("document.getElementById('compare-status').textContent")
    page.eval(
        "Array.from(document.querySelectorAll('#tool-list input')).slice(0, 8).forEach(b => b.checked || b.click())"
    )
    assert page.eval("document.querySelectorAll('#tool-list input:checked').length") == 5
    assert page.eval("document.querySelectorAll('#tool-list input:disabled').length") > 0
    assert page.eval(paths) == 5
    assert page.errors() == []


def test_compare_page_with_a_bogus_signal_says_so_and_still_draws(site, server, browser, synth_lakehouse) -> None:
    """Issue 13 item 8: compare.html#signal=bogus showed a blank page."""
    ids = [t.id for t in synth_lakehouse["tools"][:2]]
    page = browser.page()
    page.goto(f"{server}compare.html#tools={','.join(ids)},nosuchtool&signal=bogus")
    assert page.errors() == []
    message = page.eval("document.getElementById('compare-error').textContent")
    assert page.eval("document.getElementById('compare-error').hidden") is False
    assert "Unknown signal \u201cbogus\u201d" in message and "score" in message
    assert "Unknown tool ignored: nosuchtool." in message
    assert page.eval("document.getElementById('signal').value") == "score"
    assert page.eval("document.querySelectorAll('#compare-chart path.series').length") == 2
    page = browser.page()  # (a hash change on the same page fires no load event: a fresh tab)
    page.goto(f"{server}compare.html#signal=bogus")  # no tools named: the defaults, still a message and a chart
    assert page.eval("document.querySelectorAll('#compare-chart path.series').length") >= 2
    assert "bogus" in page.eval("document.getElementById('compare-error').textContent")


def test_overview_screenshot_and_phone_layout(site, server, browser, artifacts_dir: Path) -> None:
    laptop = browser.page(1280, 900)
    laptop.goto(server + "index.html")
    shot = artifacts_dir / "dashboard-overview.png"
    laptop.screenshot(shot)
    assert shot.stat().st_size > 20_000
    assert laptop.eval("document.querySelector('[data-testid=sample-banner]') !== null")
    tool = next(p for p in site["manifest"]["pages"] if p.startswith("tool/"))
    laptop.goto(server + tool)
    laptop.screenshot(artifacts_dir / "dashboard-tool.png")
    phone = browser.page(390, 844, mobile=True)
    for path in ("index.html", tool, "compare.html", "category/olap_database.html", "freshness.html"):
        phone.goto(server + path)
        # against the device width, not innerWidth: mobile emulation zooms out to fit content that overflows
        overflow = phone.eval("Math.max(document.documentElement.scrollWidth, document.body.scrollWidth)") - 390
        assert overflow <= 1, f"{path} is {overflow}px wider than a phone screen"
    phone.goto(server + "category/olap_database.html")
    phone.screenshot(artifacts_dir / "dashboard-category-phone.png")


def test_site_works_offline_from_file_urls(site, browser) -> None:
    page = browser.page()
    tool = next(p for p in site["manifest"]["pages"] if p.startswith("tool/"))  # whichever tools were generated
    for path in ("index.html", "compare.html", tool):
        page.goto((site["dir"] / path).resolve().as_uri())
        assert page.errors() == [], path
        assert page.eval("document.querySelectorAll('path.series').length") > 0, path


def test_cli_builds_the_site_into_a_folder_and_records_snapshots(synth_lakehouse, tmp_path: Path, capsys) -> None:
    from madlake.cli import main

    assert main(["dashboard", "build", "--out", str(tmp_path / "out")]) == 0
    assert str(tmp_path / "out" / "index.html") in capsys.readouterr().out
    manifest = json.loads((tmp_path / "out" / "site.json").read_text())
    assert manifest["snapshots"]["tool_monthly_metrics"] is not None  # the build can be reproduced at these snapshots


def test_publish_target_follows_the_profile(monkeypatch, tmp_path: Path) -> None:
    from madlake.config import Settings
    from madlake.dashboard.publish import dashboard_uri

    monkeypatch.delenv("MADLAKE_DASHBOARD_URI", raising=False)
    assert dashboard_uri(Settings(profile="local", home=tmp_path)) == str(tmp_path.resolve() / "dashboard")
    assert dashboard_uri(Settings(profile="aws", s3_warehouse="s3://lake/wh/")) == "s3://lake/wh/dashboard"
    monkeypatch.setenv("MADLAKE_DASHBOARD_URI", "s3://site-bucket/mad/")
    assert dashboard_uri(Settings(profile="aws", s3_warehouse="s3://lake/wh")) == "s3://site-bucket/mad"


def test_answers_agree_with_the_analyst_queries(site, synth_lakehouse) -> None:
    """The overview and ``madlake ask`` answer the same questions from the same SQL: same leaders."""
    from madlake.metrics.ask import run_query
    from madlake.sql.engine import LocalEngine

    answers = {a["key"]: a for a in site["manifest"]["answers"]}
    engine = LocalEngine()  # the Parquet files through pyiceberg, not the dashboard's in-memory copies
    olap = run_query("most_popular_open_source_olap", engine=engine).to_pylist()
    assert answers["most_popular_open_source_olap"]["answer"] == olap[0]["tool_name"]
    rows = run_query("top_mlops_then_and_now", engine=engine).to_pylist()
    expected = " · ".join(f"{r['period']}: {r['tool_name'] or 'no tool with a signal'}" for r in rows)
    assert answers["top_mlops_then_and_now"]["answer"] == expected


def test_real_questions_agree_with_madlake_ask(synth_lakehouse, tmp_path: Path, monkeypatch) -> None:
    """With the real ``madlake/sql/questions``: a card per question, and where ``madlake ask`` answers, the same answer.

    (``madlake ask`` creates every analyst view first and fails whole when one does not fit the tables, e.g. views
    written for popularity_index v1 over v2 rows; the dashboard creates the views that fit and answers what it can.)"""
    import madlake.metrics.ask as ask
    from madlake.dashboard.site import build_site
    from madlake.sql.files import layer_dir

    monkeypatch.setattr(ask, "QUERIES_DIR", layer_dir("questions"))
    manifest = build_site(tmp_path / "site")
    cards = {a["key"]: a for a in manifest.answers}
    assert set(cards) == {q.name for q in ask.list_queries()}
    for q in ask.list_queries():
        try:
            rows = ask.run_query(q.name).to_pylist()
        except Exception:
            continue
        named = [r for r in rows if r.get("tool_name")]
        if named and "period" not in rows[0] and "verdict" not in rows[0]:
            assert cards[q.name]["answer"] == named[0]["tool_name"], q.name
        else:
            assert cards[q.name]["answer"] != "could not be answered", q.name
