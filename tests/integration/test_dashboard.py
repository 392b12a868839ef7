"""The dashboard, end to end: queries, site build, publish (local and S3 on moto), and real headless Chromium.

The browser tests drive Debian's ``chromium`` over the DevTools protocol (websockets), load every page of a site
built from generated sample gold data (served on 127.0.0.1, and once from ``file://``), and check: no console error,
every chart drew one path per series it was given, internal links resolve, the compare page reacts to its controls,
and the layout does not overflow a phone's width. A screenshot of the overview lands in
``test-artifacts/dashboard-overview.png``. Without chromium they are skipped, except under ``CI`` where they fail.
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

START, END = date(2023, 9, 1), date(2026, 10, 31)
RUN_DAY = date(2026, 11, 1)
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


# ----------------------------------------------------------------------------------------------------- the sample site
@pytest.fixture(scope="module")
def sample_lakehouse(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """A lakehouse with 3 years of sample gold data for 30 tools (every category), mentions and freshness."""
    from madlake.dashboard import sample
    from madlake.lakehouse.catalog import reset_catalog_cache
    from madlake.ops.freshness import refresh_source_freshness

    home = tmp_path_factory.mktemp("dash-lakehouse")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("MADLAKE_HOME", str(home))
        mp.setenv("MADLAKE_PROFILE", "local")
        reset_catalog_cache()
        tools = sample.pick_tools(30)
        gold = sample.generate_sample_gold(tools, START, END)
        sample.load_sample_dim_tools(tools)
        sample.write_sample_gold(gold)
        sample.write_sample_mentions(*sample.generate_sample_mentions(tools, START, END, per_tool=8))
        refresh_source_freshness(RUN_DAY)
        yield {"home": home, "tools": tools, "gold": gold}
        reset_catalog_cache()


@pytest.fixture(scope="module")
def site(sample_lakehouse: dict[str, Any], tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    from madlake.dashboard.site import build_site

    out = tmp_path_factory.mktemp("dash-site") / "site"
    summary = build_site(out)
    return {"dir": out, "summary": summary, "manifest": json.loads((out / "site.json").read_text())}


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.hrefs: list[str] = []
        self.srcs: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "a" and a.get("href"):
            self.hrefs.append(a["href"] or "")
        if tag in ("script", "img", "iframe") and a.get("src"):
            self.srcs.append(a["src"] or "")
        if tag == "link" and a.get("href"):
            self.srcs.append(a["href"] or "")


def _parse(html: str) -> _Links:
    p = _Links()
    p.feed(html)
    return p


# ------------------------------------------------------------------------------------------------------------ queries
def test_every_query_gives_the_same_rows_on_the_snapshot_engine_and_on_the_parquet_views(sample_lakehouse) -> None:
    import sqlglot
    from madlake.dashboard.engine import DashboardEngine
    from madlake.dashboard.queries import QUERIES, QueryRunner, load_sql, to_trino
    from madlake.sql.engine import LocalEngine

    snap = DashboardEngine()
    views = LocalEngine()
    fast, reference = QueryRunner(snap, snap.available_tables()), QueryRunner(views, views.available_tables())
    tool = sample_lakehouse["tools"][0].id
    nonempty = 0
    for name, q in QUERIES.items():
        params = tuple(tool if p == "duckdb" else p for p in q.example_params)
        got, want = fast.run(name, params), reference.run(name, params)
        assert got == want, name
        nonempty += bool(got)
        # the Athena text of every query parses as Trino
        assert sqlglot.parse_one(to_trino(load_sql(name)), read="trino") is not None
        assert "?" in load_sql(name) or not q.example_params, f"{name} takes parameters but binds none"
    assert nonempty >= len(QUERIES) - 2  # only sample_inputs (no PyPI rows) and tool_breakouts may be empty


# --------------------------------------------------------------------------------------------------------------- site
def test_site_has_every_page_and_answers_the_questions(site, sample_lakehouse) -> None:
    import pyarrow.compute as pc

    manifest = site["manifest"]
    tools = sample_lakehouse["tools"]
    pages = set(manifest["pages"])
    assert {"index.html", "compare.html", "freshness.html"} <= pages
    assert {f"tool/{t.id}.html" for t in tools} <= pages
    assert {f"category/{c}.html" for t in tools for c in t.categories} <= pages
    assert manifest["data_date"] == END.isoformat()
    assert manifest["is_sample"] is True
    answers = {a["key"]: a for a in manifest["answers"]}
    assert len(answers) == 5 and all(a["answer"] != "no data yet" for a in answers.values()), answers

    # The OLAP answer, recomputed independently from the generated index: top open-source OLAP tool, newest month.
    pidx = sample_lakehouse["gold"].popularity_index
    last = pc.max(pidx.column("month")).as_py()
    open_source = {t.id for t in tools if t.open_source}
    rows = [r for r in pidx.to_pylist() if r["month"] == last and r["category"] == "olap_database"]
    best = max((r for r in rows if r["tool_id"] in open_source), key=lambda r: r["score"])
    name = {t.id: t.name for t in tools}[best["tool_id"]]
    assert answers["olap_open_source"]["answer"] == name
    index = (site["dir"] / "index.html").read_text()
    assert "Sample data" in index and END.isoformat() in index


def test_site_is_self_contained(site) -> None:
    for path in site["dir"].rglob("*.html"):
        html = path.read_text()
        links = _parse(html)
        for src in links.srcs:
            assert not re.match(r"^(https?:)?//", src), f"{path.name} loads {src} from the network"
            if not src.startswith("data:"):
                assert (path.parent / src).resolve().is_file(), f"{path.name}: {src} is not shipped with the site"
        assert "cdn" not in html.lower()


def test_sample_banner_follows_the_data(lakehouse: Path, tmp_path: Path) -> None:
    import pyarrow as pa
    from madlake.dashboard import sample
    from madlake.dashboard.site import build_site

    tools = sample.pick_tools(6)
    gold = sample.generate_sample_gold(tools, date(2026, 6, 1), date(2026, 8, 31))
    sample.load_sample_dim_tools(tools)
    sample.write_sample_gold(gold)
    assert 'data-testid="sample-banner"' in (build_site(tmp_path / "a").out_dir / "index.html").read_text()

    tdm = gold.tool_daily_metrics
    real = tdm.set_column(tdm.schema.get_field_index("is_sample"), "is_sample", pa.array([False] * tdm.num_rows))
    sample.write_sample_gold(sample.SampleGold(real, *list(gold.__dict__.values())[1:]), force=True)
    assert 'data-testid="sample-banner"' not in (build_site(tmp_path / "b").out_dir / "index.html").read_text()


def test_build_without_gold_data_fails_clearly(lakehouse: Path, tmp_path: Path) -> None:
    from madlake.dashboard.site import NoGoldDataError, build_site

    with pytest.raises(NoGoldDataError, match="gold_metrics"):
        build_site(tmp_path / "site")


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
          legend: f.querySelectorAll('ul.legend li').length};
})
"""


def test_every_page_loads_without_errors_and_draws_its_series(site, server, browser) -> None:
    page = browser.page()
    checked = 0
    for path in site["manifest"]["pages"]:
        page.goto(server + path)
        assert page.errors() == [], path
        for chart in page.eval(_CHARTS_JS):
            drawn = set(chart["drawn"])
            assert set(chart["expected"]) <= drawn, f"{path} {chart['id']}: drew {drawn}, expected {chart['expected']}"
            checked += 1
        if path.startswith("tool/"):
            charts = {c["id"]: c for c in page.eval(_CHARTS_JS)}
            assert charts["c-downloads"]["drawn"] == ["7 days", "28 days"], path
            assert len(charts["c-index"]["drawn"]) == 5, path
            assert (
                page.eval("document.querySelectorAll('a.reddit-link[href^=\"https://www.reddit.com/r/\"]').length") > 0
            )
    assert checked > 100


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


def test_compare_page_picks_tools_toggles_log_and_aligns_by_first_release(site, server, browser, sample_lakehouse):
    ids = [t.id for t in sample_lakehouse["tools"][:3]]
    page = browser.page()
    page.goto(f"{server}compare.html#tools={','.join(ids)}&signal=downloads")
    paths = "document.querySelectorAll('#compare-chart path.series').length"
    assert page.eval(paths) == 3
    assert page.errors() == []
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


def test_overview_screenshot_and_phone_layout(site, server, browser, artifacts_dir: Path) -> None:
    laptop = browser.page(1280, 900)
    laptop.goto(server + "index.html")
    shot = artifacts_dir / "dashboard-overview.png"
    laptop.screenshot(shot)
    assert shot.stat().st_size > 20_000
    assert laptop.eval("document.querySelector('[data-testid=sample-banner]') !== null")
    phone = browser.page(390, 844, mobile=True)
    first_tool = next(p for p in site["manifest"]["pages"] if p.startswith("tool/"))
    for path in ("index.html", first_tool, "compare.html", "category/olap_database.html", "freshness.html"):
        phone.goto(server + path)
        # against the device width, not innerWidth: mobile emulation zooms out to fit content that overflows
        overflow = phone.eval("Math.max(document.documentElement.scrollWidth, document.body.scrollWidth)") - 390
        assert overflow <= 1, f"{path} is {overflow}px wider than a phone screen"
    phone.goto(server + "category/olap_database.html")
    phone.screenshot(artifacts_dir / "dashboard-category-phone.png")


def test_site_works_offline_from_file_urls(site, browser) -> None:
    page = browser.page()
    for path in ("index.html", "compare.html", next(p for p in site["manifest"]["pages"] if p.startswith("tool/"))):
        page.goto((site["dir"] / path).resolve().as_uri())
        assert page.errors() == [], path
        assert page.eval("document.querySelectorAll('path.series').length") > 0, path


def test_cli_builds_the_site_into_a_folder_and_records_snapshots(sample_lakehouse, tmp_path: Path, capsys) -> None:
    from madlake.cli import main

    assert main(["dashboard", "build", "--out", str(tmp_path / "out")]) == 0
    assert str(tmp_path / "out" / "index.html") in capsys.readouterr().out
    manifest = json.loads((tmp_path / "out" / "site.json").read_text())
    assert manifest["snapshots"]["tool_daily_metrics"] is not None  # the build can be reproduced at these snapshots


def test_publish_target_follows_the_profile(monkeypatch, tmp_path: Path) -> None:
    from madlake.config import Settings
    from madlake.dashboard.publish import dashboard_uri

    monkeypatch.delenv("MADLAKE_DASHBOARD_URI", raising=False)
    assert dashboard_uri(Settings(profile="local", home=tmp_path)) == str(tmp_path.resolve() / "dashboard")
    assert dashboard_uri(Settings(profile="aws", s3_warehouse="s3://lake/wh/")) == "s3://lake/wh/dashboard"
    monkeypatch.setenv("MADLAKE_DASHBOARD_URI", "s3://site-bucket/mad/")
    assert dashboard_uri(Settings(profile="aws", s3_warehouse="s3://lake/wh")) == "s3://site-bucket/mad"


def test_answers_agree_with_the_analyst_queries(site, sample_lakehouse) -> None:
    """The overview and ``madlake ask`` answer the same questions with the same definitions: same leaders."""
    from madlake.metrics.ask import run_query

    answers = {a["key"]: a for a in site["manifest"]["answers"]}

    def first(name: str, params: dict[str, str] | None = None) -> dict:
        rows = run_query(name, params).to_pylist()
        assert rows, name
        return rows[0]

    assert answers["olap_open_source"]["answer"] == first("most_popular_open_source_olap")["tool_name"]
    assert answers["nosql_fastest"]["answer"] == first("fastest_growing_nosql")["tool_name"]
    today = [r for r in run_query("top_mlops_then_and_now").to_pylist() if r["period"] == "today"]
    assert answers["mlops_then_now"]["answer"] == today[0]["tool_name"]
    rising = [r["tool_name"] for r in run_query("file_formats_rising_falling").to_pylist() if r["trend"] == "rising"]
    assert answers["file_formats"]["answer"] == (rising[0] if rising else answers["file_formats"]["answer"])
    verdicts = run_query("most_loved_and_criticised", {"category": "orchestration"}).to_pylist()
    loved = next(r for r in verdicts if r["verdict"] == "most loved" and r["rank"] == 1)
    criticised = next(r for r in verdicts if r["verdict"] == "most criticised" and r["rank"] == 1)
    assert answers["orchestration_sentiment"]["answer"] == loved["tool_name"]
    assert f"most criticised: {criticised['tool_name']} (" in answers["orchestration_sentiment"]["detail"]
