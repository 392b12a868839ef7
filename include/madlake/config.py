"""Settings: one model, read when a task runs, never when a DAG file is parsed.

The public contract is three environment variables: ``MADLAKE_PROFILE`` (``local`` or ``aws``), ``MADLAKE_HOME`` (the
local lakehouse folder) and ``MADLAKE_REPLAY_DIR`` (recorded source responses). Everything else has a default that
fits the profile. Credentials are never settings: they come from Airflow connections or the standard environment
variables of each client library (for example ``AWS_ACCESS_KEY_ID``), see ``.env.example``.
"""

from __future__ import annotations

import functools
import os
from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field, computed_field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

Profile = Literal["local", "aws"]
SourceMode = Literal["replay", "live"]
CatalogKind = Literal["sql", "glue", "rest"]

#: Recorded real API responses shipped with the package; the default ``MADLAKE_REPLAY_DIR``.
BUNDLED_REPLAY_DIR = Path(__file__).parent / "replay"


class Settings(BaseSettings):
    """Runtime configuration of madlake.

    Raises:
        pydantic.ValidationError: when a variable has an invalid value, or when the ``aws`` profile lacks the
            warehouse location; the message names the variable.
    """

    model_config = SettingsConfigDict(env_prefix="MADLAKE_", frozen=True, extra="ignore")

    profile: Profile = "local"
    home: Path = Path(".madlake")
    replay_dir: Path = BUNDLED_REPLAY_DIR
    source_mode: SourceMode | None = Field(
        default=None, description="replay or live; defaults to replay on the local profile and live on aws"
    )
    namespace: str = Field(
        default="madlake",
        pattern=r"^[a-z_][a-z0-9_]*$",
        validation_alias=AliasChoices("MADLAKE_NAMESPACE", "MADLAKE_GLUE_DATABASE"),
        description="Iceberg namespace = Glue database = Athena database",
    )

    # Catalog selection: sql (SQLite, local), glue (AWS), rest (an Iceberg REST catalog, e.g. the compose stack).
    catalog: CatalogKind | None = None
    rest_uri: str | None = None

    # AWS profile.
    aws_region: str = "us-east-1"
    s3_warehouse: str | None = None
    s3_endpoint: str | None = None
    glue_endpoint: str | None = None
    athena_workgroup: str = "primary"
    athena_output: str | None = None
    athena_endpoint: str | None = None

    @model_validator(mode="after")
    def _check_profile(self) -> Settings:
        if self.profile == "aws" and not self.s3_warehouse:
            raise ValueError("MADLAKE_S3_WAREHOUSE (s3://bucket/prefix) is required on the aws profile")
        if self.s3_warehouse and not self.s3_warehouse.startswith("s3://"):
            raise ValueError(f"MADLAKE_S3_WAREHOUSE must be an s3:// URI, got {self.s3_warehouse!r}")
        if self.effective_catalog == "rest" and not self.rest_uri:
            raise ValueError("MADLAKE_REST_URI is required when MADLAKE_CATALOG=rest")
        return self

    @computed_field  # type: ignore[prop-decorator]
    @property
    def effective_source_mode(self) -> SourceMode:
        if self.source_mode is not None:
            return self.source_mode
        return "replay" if self.profile == "local" else "live"

    @computed_field  # type: ignore[prop-decorator]
    @property
    def effective_catalog(self) -> CatalogKind:
        if self.catalog is not None:
            return self.catalog
        return "sql" if self.profile == "local" else "glue"

    @property
    def home_dir(self) -> Path:
        """The absolute lakehouse folder (``MADLAKE_HOME`` resolved against the working directory)."""
        return self.home.expanduser().resolve()

    @property
    def warehouse_uri(self) -> str:
        """Where table data lives: ``file://<home>/warehouse`` locally, the S3 prefix otherwise."""
        if self.s3_warehouse:
            return self.s3_warehouse.rstrip("/")
        return (self.home_dir / "warehouse").as_uri()

    @property
    def raw_uri(self) -> str:
        """Root of raw landings (``raw/<source>/<run date>/...``) in the warehouse's object storage."""
        return f"{self.warehouse_uri}/raw"

    def replay_path(self, source: str) -> Path:
        """The replay folder of one source (``reddit``, ``pypi``, ``github``, ``llm``)."""
        return self.replay_dir.expanduser().resolve() / source


@functools.cache
def _cached(env_key: tuple[tuple[str, str], ...]) -> Settings:
    return Settings()


def get_settings() -> Settings:
    """The settings for the current environment (cached per distinct set of ``MADLAKE_*`` variables)."""
    key = tuple(sorted((k, v) for k, v in os.environ.items() if k.startswith("MADLAKE_")))
    return _cached(key)
