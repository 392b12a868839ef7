"""The generic replay server: path resolution, 404s, the OAuth token, and fault injection, over real HTTP."""

from __future__ import annotations

import http.client
import json
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from madlake.sources.replay_server import ReplayServer

from tests.replay_faults import Fault, FaultyReplayServer


@pytest.fixture
def root(tmp_path: Path) -> Path:
    (tmp_path / "r" / "python").mkdir(parents=True)
    (tmp_path / "r" / "python" / "new.json").write_text(json.dumps({"kind": "Listing", "page": 1}))
    (tmp_path / "r" / "python" / "new@after=t3_abc.json").write_text(json.dumps({"kind": "Listing", "page": 2}))
    (tmp_path / "comments").mkdir()
    (tmp_path / "comments" / "xyz.json").write_text(json.dumps([{"kind": "Listing"}, {"kind": "Listing"}]))
    (tmp_path.parent / "secret.json").write_text('{"secret": true}')
    return tmp_path


def get(url: str, method: str = "GET") -> tuple[int, dict[str, str], bytes]:
    req = urllib.request.Request(
        url, method=method, data=b"grant_type=client_credentials" if method == "POST" else None
    )
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return resp.status, dict(resp.headers), resp.read()
    except urllib.error.HTTPError as err:
        return err.code, dict(err.headers), err.read()


@pytest.mark.parametrize(
    "path",
    ["/r/python/new", "/r/python/new/", "/r/python/new.json", "/r/python/new?limit=100&raw_json=1&after=t3_zzz"],
)
def test_paths_resolve_with_or_without_suffix_and_query(root: Path, path: str) -> None:
    with ReplayServer(root) as server:
        status, headers, body = get(server.url + path)
    assert status == 200
    assert json.loads(body) == {"kind": "Listing", "page": 1}
    assert headers["Content-Type"].startswith("application/json")


def test_comment_paths_map_to_files_by_id(root: Path) -> None:
    with ReplayServer(root) as server:
        status, _, body = get(server.url + "/comments/xyz/?limit=500&sort=new&raw_json=1")
    assert status == 200 and len(json.loads(body)) == 2


def test_query_keys_select_a_distinct_page(root: Path) -> None:
    with ReplayServer(root, query_keys=("after",)) as server:
        first = json.loads(get(server.url + "/r/python/new?limit=2")[2])
        second = json.loads(get(server.url + "/r/python/new?limit=2&after=t3_abc")[2])
        unknown = json.loads(get(server.url + "/r/python/new?after=t3_nope")[2])
    assert (first["page"], second["page"], unknown["page"]) == (1, 2, 1)


def test_missing_paths_and_escapes_answer_404(root: Path) -> None:
    with ReplayServer(root) as server:
        assert get(server.url + "/comments/gone/")[0] == 404
        assert get(server.url + "/../secret.json")[0] == 404
        assert get(server.url + "/%2e%2e/secret.json")[0] == 404
        assert get(server.url + "/")[0] == 404
        assert [r.status for r in server.requests] == [404, 404, 404, 404]


def test_rewrites_apply_before_lookup(root: Path) -> None:
    with ReplayServer(root, rewrites=[(r"^/r/[^/]+/comments/([a-z0-9]+)(/.*)?$", r"/comments/\1")]) as server:
        assert get(server.url + "/r/python/comments/xyz/some_title/")[0] == 200


def test_token_endpoint_answers_a_bearer_token(root: Path) -> None:
    with ReplayServer(root) as server:
        status, _, body = get(server.url + "/api/v1/access_token", method="POST")
        assert server.requests[-1].method == "POST"
    token = json.loads(body)
    assert status == 200 and token["token_type"] == "bearer" and token["access_token"]


def test_fault_429_with_retry_after_fires_the_given_times_then_recovers(root: Path) -> None:
    with FaultyReplayServer(root, faults=[Fault("/r/*/new*", status=429, retry_after=3, times=2)]) as server:
        answers = [get(server.url + "/r/python/new") for _ in range(3)]
        other = get(server.url + "/comments/xyz")
    assert [a[0] for a in answers] == [429, 429, 200]
    assert answers[0][1]["Retry-After"] == "3"
    assert other[0] == 200


def test_fault_for_ever_and_added_while_running(root: Path) -> None:
    with FaultyReplayServer(root) as server:
        assert get(server.url + "/comments/xyz")[0] == 200
        fault = server.add_fault(Fault("/comments/*", status=500, times=None))
        assert [get(server.url + "/comments/xyz")[0] for _ in range(3)] == [500, 500, 500]
        assert fault.fired == 3
        server.clear_faults()
        assert get(server.url + "/comments/xyz")[0] == 200


def test_fault_delay_slows_the_answer(root: Path) -> None:
    with FaultyReplayServer(root, faults=[Fault("/comments/*", status=None, delay=0.3)]) as server:
        start = time.perf_counter()
        status = get(server.url + "/comments/xyz")[0]
    assert status == 200 and time.perf_counter() - start >= 0.3


def test_truncated_body_is_an_incomplete_read(root: Path) -> None:
    with FaultyReplayServer(root, faults=[Fault("/r/python/new", status=None, truncate=5)]) as server:
        with pytest.raises(http.client.IncompleteRead):
            get(server.url + "/r/python/new")
        assert get(server.url + "/r/python/new")[0] == 200  # one-shot fault: the retry gets the whole body


def test_url_requires_a_running_server(root: Path) -> None:
    server = ReplayServer(root)
    with pytest.raises(RuntimeError, match="not running"):
        _ = server.url
