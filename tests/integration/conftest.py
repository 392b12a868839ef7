"""Local stand-ins for remote services, started by the tests on 127.0.0.1."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="session")
def moto_server() -> Iterator[str]:
    """A real ``moto_server`` (S3, Glue, Athena over HTTP) on 127.0.0.1; yields its endpoint URL."""
    port = free_port()
    exe = Path(sys.executable).with_name("moto_server")
    proc = subprocess.Popen(
        [str(exe), "-H", "127.0.0.1", "-p", str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            urllib.request.urlopen(f"{url}/moto-api/", timeout=1)
            break
        except OSError:
            if time.monotonic() > deadline or proc.poll() is not None:
                proc.kill()
                raise RuntimeError("moto_server did not start") from None
            time.sleep(0.2)
    try:
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=10)


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
