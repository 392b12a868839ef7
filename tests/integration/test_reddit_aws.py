"""The Reddit pipeline on the aws profile against moto_server: raw landings and archive dumps in S3, tables on Glue."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import boto3
import pytest

from tests.integration.conftest import AwsLakehouse

pytestmark = pytest.mark.integration

FIXTURES = Path(__file__).resolve().parents[2] / "tests" / "fixtures" / "reddit"


@pytest.fixture
def aws_reddit(aws_profile: AwsLakehouse, monkeypatch: pytest.MonkeyPatch) -> str:
    """The shared aws profile, with Reddit replayed (the profile's default source mode is live): the bucket."""
    monkeypatch.setenv("MADLAKE_SOURCE_MODE", "replay")
    return aws_profile.bucket


def test_landing_in_s3_then_load_and_archive_backfill_from_s3(aws_reddit: str, moto_server: str) -> None:
    from madlake.lakehouse.tables import load_table
    from madlake.names import Table
    from madlake.pipelines import reddit_archive, reddit_ingest, reddit_load

    day = date(2025, 8, 8)
    summary = reddit_ingest.ingest(day, subreddits=["dataengineering"], max_attempts=1)
    assert summary["landing"].startswith(f"s3://{aws_reddit}/warehouse/raw/reddit/2025-08-08/")
    s3 = boto3.client("s3", endpoint_url=moto_server, region_name="us-east-1")
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=aws_reddit, Prefix="warehouse/raw/reddit/")["Contents"]]
    assert any(k.endswith("/_manifest.json") for k in keys) and any(k.endswith(".jsonl.gz") for k in keys)

    loaded = reddit_load.load(day)
    assert loaded["comments"]["inserted"] == 166 + 168
    assert load_table(Table.REDDIT_SUBMISSIONS).scan().to_arrow().num_rows == 2
    assert reddit_load.load(day)["comments"]["committed"] is False

    for dump in FIXTURES.glob("*.zst"):
        s3.upload_file(str(dump), aws_reddit, f"archives/reddit/{dump.name}")
    backfill = reddit_archive.archive_backfill(
        "dataengineering", date(2021, 1, 1), date(2021, 12, 31), archive=f"s3://{aws_reddit}/archives/reddit"
    )
    # the API copies are fresher than the archive's: nothing to insert, nothing rolled back
    assert backfill["comments"]["inserted"] == 0 and backfill["comments"]["rejected"] == 4
    sources = set(load_table(Table.REDDIT_COMMENTS).scan().to_arrow().column("source").to_pylist())
    assert sources == {"api"}
