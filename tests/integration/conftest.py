"""Local stand-ins for remote services, started by the tests on 127.0.0.1."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from moto.server import ThreadedMotoServer


@pytest.fixture(scope="session")
def moto_server() -> Iterator[str]:
    """A real moto server (S3, Glue, Athena over HTTP) on 127.0.0.1, in a thread of this process; yields its URL."""
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()


@dataclass(frozen=True)
class AwsLakehouse:
    """An aws-profile lakehouse on moto_server: its S3 bucket and its Glue database (= Iceberg namespace)."""

    bucket: str
    namespace: str


@pytest.fixture
def aws_profile(moto_server: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[AwsLakehouse]:
    """The aws profile (Glue catalog, S3 warehouse, Athena) pointed at moto_server, in a fresh bucket and namespace."""
    import uuid

    import boto3
    from madlake.lakehouse.catalog import reset_catalog_cache

    lake = AwsLakehouse(bucket=f"madlake-{uuid.uuid4().hex[:8]}", namespace=f"madlake_{uuid.uuid4().hex[:6]}")
    env = {
        "MADLAKE_PROFILE": "aws",
        "MADLAKE_S3_WAREHOUSE": f"s3://{lake.bucket}/warehouse",
        "MADLAKE_S3_ENDPOINT": moto_server,
        "MADLAKE_GLUE_ENDPOINT": moto_server,
        "MADLAKE_ATHENA_ENDPOINT": moto_server,
        "MADLAKE_ATHENA_OUTPUT": f"s3://{lake.bucket}/athena/",
        "MADLAKE_NAMESPACE": lake.namespace,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
    }
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    boto3.client("s3", endpoint_url=moto_server, region_name="us-east-1").create_bucket(Bucket=lake.bucket)
    reset_catalog_cache()
    yield lake
    reset_catalog_cache()
