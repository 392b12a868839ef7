"""Reddit credentials (Airflow connection, then praw's env vars, never logged) and the praw client's wiring."""

from __future__ import annotations

import json

import pytest
from madlake.sources.reddit.client import Credentials, live_credentials, make_reddit, reddit_session


def test_live_credentials_come_from_the_airflow_connection() -> None:
    creds = live_credentials()  # tests/fixtures/connections.json -> AIRFLOW_CONN_REDDIT_DEFAULT
    assert (creds.client_id, creds.client_secret, creds.user_agent) == (
        "test-client-id",
        "test-client-secret",
        "madlake-tests/0.1",
    )
    assert "test-client-secret" not in repr(creds) and "***" in repr(creds)


def test_praw_env_vars_are_the_fallback_and_absence_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AIRFLOW_CONN_REDDIT_DEFAULT")
    monkeypatch.setenv("praw_client_id", "env-id")
    monkeypatch.setenv("praw_client_secret", "env-secret")
    assert live_credentials().client_id == "env-id"
    monkeypatch.delenv("praw_client_id")
    with pytest.raises(RuntimeError, match="reddit_default") as exc:
        live_credentials()
    assert "env-secret" not in str(exc.value)


def test_connection_without_a_secret_is_not_enough(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AIRFLOW_CONN_REDDIT_DEFAULT", json.dumps({"conn_type": "generic", "login": "only-id"}))
    with pytest.raises(RuntimeError, match="No Reddit credentials"):
        live_credentials()


def test_client_is_read_only_and_points_at_the_given_server() -> None:
    reddit = make_reddit(Credentials("id", "secret", "madlake-tests"), "http://127.0.0.1:9")
    assert reddit.read_only
    assert reddit.config.oauth_url == reddit.config.reddit_url == "http://127.0.0.1:9"


def test_replay_session_needs_an_existing_folder(tmp_path) -> None:
    with pytest.raises(FileNotFoundError, match="MADLAKE_REPLAY_DIR"), reddit_session("replay", tmp_path / "none"):
        pass
