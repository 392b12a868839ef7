"""The layers of docs/architecture.md, checked against the imports: a package imports only its own layer or lower
ones, and reaches Airflow only through orchestration's ports (the one-screen picture must match the code)."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "include" / "madlake"

#: Bottom to top, as drawn in docs/architecture.md.
LAYERS: list[set[str]] = [
    {"names", "config", "redaction", "catalog", "models", "__init__"},  # base: names, settings, the tools catalog
    {"tables"},  # table specs (schemas)
    {"lakehouse", "sql"},  # storage: catalogs, writes, SQL files and engines
    {"sources", "quality"},  # clients (live + replay), audits
    {"pipelines", "mentions", "metrics", "watchlists", "dashboard", "ops"},  # the work: loads, gold, events, site
    {"orchestration", "cli", "demo"},  # entry points: Airflow tasks, commands, the demo
]
#: orchestration's ports: small typed modules every layer may use (the run request, connections, the notifier, the
#: schedule constants, refused-date errors). Only orchestration/ imports Airflow, lazily, inside these functions.
PORTS = {
    "orchestration.request",
    "orchestration.connections",
    "orchestration.notify",
    "orchestration.schedule",
    "orchestration.failures",
}


def _layer(package: str) -> int:
    return next(i for i, names in enumerate(LAYERS) if package in names)


def _imports(path: Path) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == "madlake":
            found.append(node.module)
        elif isinstance(node, ast.Import):
            found += [a.name for a in node.names if a.name.split(".")[0] == "madlake"]
    return found


def test_every_package_is_in_one_layer() -> None:
    packages = {p.stem for p in PACKAGE.iterdir() if p.suffix == ".py" or (p / "__init__.py").exists()}
    drawn = set().union(*LAYERS)
    assert packages == drawn, packages ^ drawn


def test_imports_point_down_or_to_a_port() -> None:
    upward = []
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = path.relative_to(PACKAGE)
        own = rel.parts[0].removesuffix(".py")
        for module in _imports(path):
            parts = module.split(".")[1:] or ["__init__"]
            target = parts[0]
            if ".".join(parts[:2]) in PORTS or _layer(target) <= _layer(own):
                continue
            upward.append(f"{rel}: {module}")
    assert upward == []
