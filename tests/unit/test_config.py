from __future__ import annotations

from pathlib import Path

import pytest
from madlake.config import BUNDLED_REPLAY_DIR, Settings, get_settings
from pydantic import ValidationError


def test_local_profile_defaults(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("MADLAKE_HOME", raising=False)
    monkeypatch.delenv("MADLAKE_REPLAY_DIR", raising=False)
    s = Settings()
    assert s.profile == "local"
    assert s.effective_source_mode == "replay"
    assert s.effective_catalog == "sql"
    assert s.home_dir == tmp_path / ".madlake"
    assert s.warehouse_uri == (tmp_path / ".madlake" / "warehouse").as_uri()
    assert s.replay_path("reddit") == BUNDLED_REPLAY_DIR.resolve() / "reddit"


def test_public_environment_contract(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("MADLAKE_HOME", str(tmp_path / "h"))
    monkeypatch.setenv("MADLAKE_REPLAY_DIR", str(tmp_path / "r"))
    s = get_settings()
    assert s.home_dir == tmp_path / "h"
    assert s.replay_path("pypi") == tmp_path / "r" / "pypi"


def test_aws_profile_needs_a_warehouse(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MADLAKE_PROFILE", "aws")
    with pytest.raises(ValidationError, match="MADLAKE_S3_WAREHOUSE"):
        Settings()
    monkeypatch.setenv("MADLAKE_S3_WAREHOUSE", "s3://bucket/wh")
    s = Settings()
    assert (s.effective_catalog, s.effective_source_mode, s.warehouse_uri) == ("glue", "live", "s3://bucket/wh")


def test_bad_profile_is_rejected(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MADLAKE_PROFILE", "prod")
    with pytest.raises(ValidationError, match="profile"):
        Settings()
