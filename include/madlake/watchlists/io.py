"""Load and validate the watchlists: ``watchlists.yaml`` beside this file, or the Airflow Variable override.

Validation mirrors the tools catalog's (:mod:`madlake.catalog.io`): invalid YAML, a repeated key, a schema error or a
tool/category the catalog does not know raise :class:`WatchlistError`, whose message starts with where the text came
from and names the watchlist entry. :class:`WatchlistError` is a :class:`~madlake.catalog.io.CatalogError`, so a
task fails at once on it (bad configuration: a retry cannot fix it).
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from madlake.catalog.io import CatalogError, _UniqueKeyLoader, load_catalog
from madlake.catalog.models import ToolCatalog
from madlake.orchestration.notify import get_variable
from madlake.watchlists.models import WatchlistFile, catalog_errors

log = logging.getLogger(__name__)

DEFAULT_WATCHLISTS_PATH = Path(__file__).with_name("watchlists.yaml")

#: The Airflow Variable whose value (YAML or JSON text) replaces the bundled file when set.
VARIABLE = "madlake_watchlists"


class WatchlistError(CatalogError):
    """The watchlists cannot be read, are not valid YAML, or break a rule; the message names where and which entry."""


def parse_watchlists(text: str, origin: str, catalog: ToolCatalog | None = None) -> WatchlistFile:
    """Parse and validate watchlists from ``text`` (``origin`` starts every error message).

    Raises:
        WatchlistError: invalid YAML, a key repeated in one mapping, a schema error, or an unknown tool/category.
    """
    try:
        raw = yaml.load(text, Loader=_UniqueKeyLoader)  # noqa: S506 - the catalog's safe loader subclass
    except yaml.YAMLError as exc:
        raise WatchlistError(f"{origin}: invalid YAML: {exc}") from exc
    if not isinstance(raw, dict):
        raise WatchlistError(f"{origin}: expected a mapping with 'watchlists', got {type(raw).__name__}")
    try:
        parsed = WatchlistFile.model_validate(raw)
    except ValidationError as exc:
        raise WatchlistError(f"{origin}: invalid watchlists:\n{_describe(exc, raw)}") from exc
    catalog = catalog or load_catalog()
    problems = catalog_errors(parsed, {t.id for t in catalog.tools}, set(catalog.categories))
    if problems:
        raise WatchlistError(f"{origin}: invalid watchlists:\n" + "\n".join(problems))
    return parsed


def load_watchlists(path: str | Path | None = None, catalog: ToolCatalog | None = None) -> WatchlistFile:
    """The watchlists of ``path`` (default: the bundled ``watchlists.yaml``), validated against the catalog."""
    p = Path(path) if path is not None else DEFAULT_WATCHLISTS_PATH
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as exc:
        raise WatchlistError(f"{p}: cannot read watchlists: {exc}") from exc
    return parse_watchlists(text, str(p), catalog)


def current_watchlists(catalog: ToolCatalog | None = None) -> WatchlistFile:
    """The Airflow Variable ``madlake_watchlists`` when set (read at run time, never at DAG parse), else the file."""
    text = _variable()
    if text:
        log.info("Watchlists from the Airflow Variable %s", VARIABLE)
        return parse_watchlists(text, f"Airflow Variable {VARIABLE}", catalog)
    return load_watchlists(catalog=catalog)


def _variable() -> str | None:
    env = os.environ.get(f"AIRFLOW_VAR_{VARIABLE.upper()}")
    if env:
        return env
    return get_variable(VARIABLE)  # None outside a task (no Variable backend reachable): the bundled file


def _describe(exc: ValidationError, raw: dict[str, Any]) -> str:
    """One line per error, locating watchlist entries by index and, when the entry has one, by name."""
    lines = []
    entries = raw.get("watchlists")
    for error in exc.errors():
        loc = list(error["loc"])
        where = ".".join(str(part) for part in loc) or "<root>"
        if len(loc) >= 2 and loc[0] == "watchlists" and isinstance(loc[1], int):
            entry = entries[loc[1]] if isinstance(entries, list) and loc[1] < len(entries) else None
            name = entry.get("name") if isinstance(entry, dict) else None
            rest = ".".join(str(part) for part in loc[2:])
            where = f"watchlists[{loc[1]}] (name={name!r})" + (f".{rest}" if rest else "")
        lines.append(f"  {where}: {str(error['msg']).removeprefix('Value error, ')}")
    return "\n".join(lines)
