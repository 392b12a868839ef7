"""Settings of the PyPI pipeline (``MADLAKE_PYPI_*`` environment variables). Never credentials."""

from __future__ import annotations

from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

LiveSource = Literal["bigquery", "clickpy"]

GIB = 1024**3


class PypiSettings(BaseSettings):
    """Source selection, the BigQuery cost guard and the audit thresholds.

    Raises:
        pydantic.ValidationError: an invalid value; the message names the ``MADLAKE_PYPI_*`` variable.
    """

    model_config = SettingsConfigDict(env_prefix="MADLAKE_PYPI_", frozen=True, extra="ignore")

    source: LiveSource = Field(default="bigquery", description="live source: bigquery or clickpy (one setting)")
    max_bytes_billed: int = Field(
        default=60 * GIB, gt=0, description="BigQuery cost guard: a day scanning more than this fails before running"
    )
    bigquery_project: str | None = Field(default=None, description="billing project (default: the connection's)")
    bigquery_location: str = "US"
    query_timeout_s: float = Field(default=600, gt=0, description="how long one query may run")
    http_timeout_s: float = Field(default=60, gt=0, description="timeout of one HTTP request to a source")
    clickpy_url: str = "https://sql-clickhouse.clickhouse.com"
    clickpy_user: str = "demo"

    # Audit thresholds.
    band_low: float = Field(default=0.5, gt=0, description="day total >= band_low x trailing 7-day median")
    band_high: float = Field(default=2.0, gt=0, description="day total <= band_high x trailing 7-day median")
    band_min_history: int = Field(default=3, ge=1, description="trailing days needed before the band applies")
    max_absent_share: float = Field(
        default=0.5, ge=0, le=1, description="fail when more than this share of tracked packages has no row"
    )


def get_pypi_settings() -> PypiSettings:
    """Fresh settings from the current environment (cheap; not cached so tests can monkeypatch variables)."""
    return PypiSettings()
