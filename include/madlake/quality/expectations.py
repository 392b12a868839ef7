"""Run great-expectations expectations on an in-memory frame; return a :class:`~madlake.lakehouse.writes.AuditReport`.

Any pipeline's write-audit-publish audit can use this: build a list of expectation configs (plain dicts), hand over the
staged rows (Arrow or pandas), get a report whose results go to ``audit_results``.

* An ephemeral GE context is created per call (no files, no project folder, analytics off, progress bars off), so
  concurrent audits in one process do not share state.
* great_expectations is imported here, lazily: it costs seconds and must never be imported at DAG parse time.
* A misconfigured expectation (unknown type, wrong kwargs) raises ``ValueError`` naming it: that is a bug, not a
  failed audit, and must not be recorded as "the data failed".
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import pandas as pd
import pyarrow as pa

from madlake.lakehouse.writes import AuditReport, ExpectationResult

if TYPE_CHECKING:  # great_expectations is imported when an audit runs (see _context)
    from great_expectations.data_context import AbstractDataContext

log = logging.getLogger(__name__)

#: How many failing example values an observation quotes.
MAX_EXAMPLES = 5


def expectation(type_: str, label: str | None = None, **kwargs: Any) -> dict[str, Any]:
    """An expectation config: ``{"type": ..., "kwargs": {...}, "label": ...}`` (the label names it in the audit log)."""
    column = kwargs.get("column")
    return {"type": type_, "kwargs": kwargs, "label": label or (f"{type_}({column})" if column else type_)}


def _context() -> AbstractDataContext:
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")
    # GE logs a line per registered expectation/metric at import and per validation at INFO: silence it *before*
    # the import so task logs stay about our data.
    logging.getLogger("great_expectations").setLevel(logging.WARNING)
    import great_expectations as gx  # noqa: PLC0415 - costs 4-7 s: only when an audit runs
    from great_expectations.data_context.types.base import ProgressBarsConfig  # noqa: PLC0415

    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False, metric_calculations=False)
    return context


def _observed(result: Mapping[str, Any]) -> str:
    if "observed_value" in result:
        return f"observed {result['observed_value']}"
    if "unexpected_count" in result:
        examples = [v for v in (result.get("partial_unexpected_list") or [])][:MAX_EXAMPLES]
        text = f"{result['unexpected_count']} of {result.get('element_count', '?')} rows unexpected"
        if examples:
            text += f", e.g. {examples}"
        return text
    return str(dict(result))[:500]


def _exception_message(info: Any) -> str | None:
    """The error of an expectation that could not be computed (GE 1.x nests it per metric), else ``None``."""
    if not isinstance(info, Mapping):
        return None
    if info.get("raised_exception"):
        return str(info.get("exception_message"))
    for value in info.values():
        if isinstance(value, Mapping) and value.get("raised_exception"):
            return str(value.get("exception_message"))
    return None


def run_expectations(
    data: pa.Table | pd.DataFrame,
    expectations: Sequence[Mapping[str, Any]],
    *,
    suite_name: str = "madlake_audit",
) -> AuditReport:
    """Validate ``data`` against ``expectations`` (configs from :func:`expectation`) in an ephemeral GE context.

    Returns the report (one result per expectation, in the given order); it does not raise on failed expectations.

    Raises:
        ValueError: an expectation config is invalid (names it).
    """
    import great_expectations as gx  # noqa: PLC0415 - costs 4-7 s: only when an audit runs
    from great_expectations.expectations.expectation_configuration import (  # noqa: PLC0415
        ExpectationConfiguration,
    )

    frame = data if isinstance(data, pd.DataFrame) else data.to_pandas()
    context = _context()
    batch = (
        context.data_sources.add_pandas("madlake")
        .add_dataframe_asset("frame")
        .add_batch_definition_whole_dataframe("whole")
        .get_batch(batch_parameters={"dataframe": frame})
    )
    suite = gx.ExpectationSuite(name=suite_name)
    labels = []
    for i, cfg in enumerate(expectations):
        label = str(cfg.get("label") or cfg["type"])
        labels.append(label)
        try:
            suite.add_expectation_configuration(
                ExpectationConfiguration(type=cfg["type"], kwargs=dict(cfg.get("kwargs", {})), meta={"madlake_i": i})
            )
        except Exception as exc:
            raise ValueError(f"invalid expectation {label!r}: {exc}") from exc
    validation = batch.validate(suite, result_format="SUMMARY")
    by_index: dict[int, ExpectationResult] = {}
    for r in validation.results:
        if r.expectation_config is None:  # GE always returns the configuration it validated
            raise ValueError("great-expectations returned a result without its expectation configuration")
        i = int(r.expectation_config.meta["madlake_i"])
        error = _exception_message(r.exception_info)
        if error:
            raise ValueError(f"expectation {labels[i]!r} could not run: {error}")
        by_index[i] = ExpectationResult(labels[i], bool(r.success), _observed(r.result or {}))
    results = tuple(by_index[i] for i in range(len(labels)))
    failed = sum(not r.success for r in results)
    log.info("great-expectations: %d expectations on %d rows, %d failed", len(results), len(frame), failed)
    return AuditReport(results=results, rows=len(frame))
