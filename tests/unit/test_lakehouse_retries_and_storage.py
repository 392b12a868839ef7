"""The commit retry policy (tenacity) and the one storage factory (pyiceberg's FileIO) every raw store uses."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from madlake.config import Settings
from madlake.lakehouse import writes
from madlake.lakehouse.catalog import filesystem
from madlake.lakehouse.tables import ensure_table
from pyarrow import fs
from pyiceberg.exceptions import CommitFailedException

from tests.unit.test_lakehouse import SPEC


def test_a_lost_commit_race_is_redone_with_one_warning_per_retry(
    lakehouse: Path, caplog: pytest.LogCaptureFixture
) -> None:
    table = ensure_table(SPEC)
    calls = []

    def flaky() -> str:
        calls.append(1)
        if len(calls) < 3:
            raise CommitFailedException("requirement failed: branch main has changed")
        return "done"

    with caplog.at_level(logging.WARNING, logger="madlake.lakehouse.writes"):
        assert writes.retry_commits(flaky, table, "merge", attempts=4) == "done"
    retries = [r.getMessage() for r in caplog.records if "lost a commit race" in r.getMessage()]
    assert len(calls) == 3
    assert len(retries) == 2 and "retry 1 of 3" in retries[0] and "retry 2 of 3" in retries[1]


def test_other_errors_and_the_last_conflict_are_raised_as_they_are(lakehouse: Path) -> None:
    table = ensure_table(SPEC)
    calls = []

    def broken() -> None:
        calls.append(1)
        raise KeyError("not a commit race")

    with pytest.raises(KeyError, match="not a commit race"):
        writes.retry_commits(broken, table, "merge", attempts=4)
    assert len(calls) == 1

    def always_losing() -> None:
        calls.append(1)
        raise CommitFailedException("lost again")

    calls.clear()
    with pytest.raises(CommitFailedException, match="lost again"):
        writes.retry_commits(always_losing, table, "merge", attempts=2)
    assert len(calls) == 2


def test_filesystem_honours_a_local_s3_endpoint_and_maps_paths(tmp_path: Path) -> None:
    settings = Settings(profile="local", s3_endpoint="http://127.0.0.1:9", aws_region="eu-west-1")
    s3, path = filesystem("s3://bucket/raw/reddit", settings)
    assert isinstance(s3, fs.S3FileSystem) and path == "bucket/raw/reddit"
    options = s3.__reduce__()[1][0]  # the S3FileSystem's constructor arguments
    assert (options["region"], options["endpoint_override"]) == ("eu-west-1", "http://127.0.0.1:9")
    assert options["force_virtual_addressing"] is False  # path-style, as moto and MinIO need
    local, local_path = filesystem((tmp_path / "raw").as_uri(), settings)
    assert isinstance(local, fs.LocalFileSystem) and local_path == str(tmp_path / "raw")
    with pytest.raises(ValueError, match="Unrecognized filesystem"):
        filesystem("ftp://host/x", settings)
