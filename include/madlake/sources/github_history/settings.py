"""Settings of the GitHub history sources (``MADLAKE_GITHUB_HISTORY_*`` environment variables). Never credentials."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class GitHubHistorySettings(BaseSettings):
    """Where the live files are and how patiently they are fetched.

    Raises:
        pydantic.ValidationError: an invalid value; the message names the ``MADLAKE_GITHUB_HISTORY_*`` variable.
    """

    model_config = SettingsConfigDict(env_prefix="MADLAKE_GITHUB_HISTORY_", frozen=True, extra="ignore")

    raw_url: str = Field(
        default="https://raw.githubusercontent.com",
        pattern=r"^https?://[^\s/]+(/\S*)?$",
        description="base URL of raw repository files (a local stand-in in tests)",
    )
    ranking_repo: str = "EvanLi/Github-Ranking"
    ranking_ref: str = Field(default="master", description="branch of the ranking repo holding Data/")
    best_of_ref: str = Field(default="main", description="branch of the best-of repos holding history/")
    http_timeout_s: float = Field(default=60, gt=0, description="timeout of one HTTP request")
    max_attempts: int = Field(default=4, ge=1, description="attempts per file on 5xx, 429 and transport errors")


def get_history_settings() -> GitHubHistorySettings:
    """Fresh settings from the current environment (not cached, so tests can monkeypatch variables)."""
    return GitHubHistorySettings()
