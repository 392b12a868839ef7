"""Links on the dashboard (issue 13 item 6): Reddit links from ids on the real host; external links show their host."""

from __future__ import annotations

import pytest
from madlake.dashboard.links import Link, external_link, reddit_link


def test_a_submission_link_is_built_from_its_id_whatever_the_stored_permalink_says() -> None:
    link = reddit_link("t3_1mkowrw", "submission", "LocalLLaMA", None, "https://evil.example/r/LocalLLaMA/")
    assert link == Link("https://www.reddit.com/r/LocalLLaMA/comments/1mkowrw/", "reddit.com", True)
    assert link.label == "thread on reddit.com"


def test_a_comment_link_is_built_from_its_id_and_its_submissions_id() -> None:
    link = reddit_link("t1_n7abcde", "comment", "dataengineering", "1mkowrw", "http://evil.example/x")
    assert link is not None and link.url == "https://www.reddit.com/r/dataengineering/comments/1mkowrw/_/n7abcde/"


def test_a_well_formed_relative_permalink_stands_in_for_missing_ids() -> None:
    link = reddit_link("t1_n7abcde", "comment", "dataengineering", None, "/r/dataengineering/comments/1mk/title/n7a/")
    assert link == Link("https://www.reddit.com/r/dataengineering/comments/1mk/title/n7a/", "reddit.com", True)


@pytest.mark.parametrize(
    ("permalink", "host"),
    [
        ("https://evil.example/phish", "evil.example"),
        ("http://www.evil.example:8080/r/x/comments/abc/", "evil.example"),
        ("HTTPS://Reddit.com.evil.example/r/x/", "reddit.com.evil.example"),
    ],
)
def test_an_absolute_permalink_is_not_a_reddit_link_and_shows_its_host(permalink: str, host: str) -> None:
    link = reddit_link("t3_../x", "submission", "dataengineering", None, permalink)
    assert link is not None and not link.reddit
    assert link.host == host and link.label == f"external link ({host})"
    assert "reddit.com" not in link.label or host.startswith("reddit.com.")


@pytest.mark.parametrize(
    "permalink", ["javascript:alert(1)", "//evil.example/x", "/r/x/../../evil", "data:text/html,hi", "", None]
)
def test_anything_else_gives_no_link(permalink: str | None) -> None:
    assert reddit_link("t3_", "submission", "x/../y", None, permalink) is None


def test_a_hostile_subreddit_or_id_is_never_put_in_a_path() -> None:
    assert reddit_link("t3_abc", "submission", "../../evil", None, None) is None
    assert reddit_link("t3_abc/../../x", "submission", "python", None, None) is None
    assert reddit_link("t1_abc", "comment", "python", "../x", None) is None


def test_external_links_keep_only_http_and_show_the_host_without_credentials() -> None:
    assert external_link("https://user:pw@duckdb.org/docs") == Link(
        "https://user:pw@duckdb.org/docs", "duckdb.org", False
    )
    assert external_link("ftp://duckdb.org") is None
    assert external_link("https://") is None
