"""The GitHub client a GitHub pipeline runs with: replayed (a local server over recorded answers) or live.

Source modes: ``replay`` (local profile default) starts :class:`~madlake.sources.github.replay.GitHubReplayServer` on
127.0.0.1 over ``$MADLAKE_REPLAY_DIR/github`` and points the same client at it; ``live`` calls the API root of
connection ``github_default`` (its ``host``, default ``https://api.github.com``) with its password as token (or
``$GITHUB_TOKEN``). Shared by :mod:`madlake.pipelines.github_snapshots` and :mod:`madlake.pipelines.github_stars`.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from madlake.catalog import load_catalog
from madlake.config import get_settings
from madlake.sources.github.client import GitHubClient, resolve_api_url, resolve_token
from madlake.sources.github.replay import GitHubReplayServer
from madlake.sources.github.state import EtagCache, JsonStore

SOURCE = "github"


@dataclass(frozen=True)
class Session:
    """A client plus what the run needs to label its rows."""

    client: GitHubClient
    mode: str
    labels: dict[str, str]
    recorded: frozenset[str] | None = None  # replay: the repositories the recordings cover (lowercase)
    recorded_stars: frozenset[str] | None = None


def _replay_meta(root: Path) -> dict[str, Any]:
    path = root / "_meta.json"
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}


@contextlib.contextmanager
def open_session(source_mode: str | None = None, *, sleep: Callable[[float], None] | None = None) -> Iterator[Session]:
    """A GitHub client for the active source mode (see the module docstring); closes it (and the replay server)."""
    settings = get_settings()
    mode = source_mode or settings.effective_source_mode
    if mode not in ("replay", "live"):
        raise ValueError(f"source mode must be 'replay' or 'live', got {mode!r}")
    cache = EtagCache(JsonStore.default(), name=f"etag_cache_{mode}.json")
    kwargs: dict[str, Any] = {"etag_cache": cache}
    if sleep is not None:
        kwargs["sleep"] = sleep
    if mode == "replay":
        root = settings.replay_path("github")
        meta = _replay_meta(root)
        repos = {
            p.relative_to(root / "repos").with_suffix("").as_posix().lower()
            for p in (root / "repos").glob("*/*.json")
            if not p.name.endswith(".headers.json")
        }
        stars = {
            p.parent.relative_to(root / "graphql" / "Stargazers").as_posix().lower()
            for p in (root / "graphql" / "Stargazers").glob("*/*/first.json")
        }
        with GitHubReplayServer(root) as server:
            client = GitHubClient(server.url, None, **kwargs)
            try:
                labels = {**meta.get("labels", {}), "recorded_on": str(meta.get("recorded_on", ""))}
                yield Session(client, "replay", labels, frozenset(repos), frozenset(stars))
            finally:
                client.close()
                cache.save()
        return
    client = GitHubClient(resolve_api_url(), resolve_token(), **kwargs)
    try:
        yield Session(client, "live", {})
    finally:
        client.close()
        cache.save()


def tracked_repos() -> dict[str, str]:
    """``{owner/repo: tool_id}`` of every repository in the tools catalog."""
    return load_catalog().github_repos()
