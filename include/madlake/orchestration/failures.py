"""Failure semantics of madlake tasks: deterministic failures fail at once, transient ones retry with backoff.

A task body decorated with :func:`guarded` (under ``@task``) maps the errors whose outcome cannot change on a retry
to :class:`airflow.sdk.exceptions.AirflowFailException`, which Airflow fails without using the task's retries:

* a failed audit (:class:`~madlake.lakehouse.writes.AuditFailedError`): the same rows would fail the same checks;
* bad configuration or input: pydantic ``ValidationError`` (settings, params), a catalog error, a missing
  connection (``LookupError``), a replay file that does not exist (``FileNotFoundError``), a BigQuery byte cap;
* a refused date (:class:`RefusedDateError`): a snapshot DAG asked for a backfill or a past day, a day outside
  what the source can serve.

Everything else (HTTP 429/5xx, timeouts, connection resets, commit races) propagates unchanged, so Airflow retries
it with the exponential backoff of :func:`madlake.orchestration.defaults.default_args`.

The decorator also silences library log noise for the task (great-expectations registers every expectation and
metric at import, one log line each) so a task log reads as counts, days and reasons.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from typing import Any, TypeVar

log = logging.getLogger(__name__)

F = TypeVar("F", bound=Callable[..., Any])

#: Loggers held at WARNING inside tasks: they log per registration / per request, not about our data.
NOISY_LOGGERS = (
    "great_expectations",
    "great_expectations._docs_decorators",
    "great_expectations.expectations.registry",
    "great_expectations.data_context.types.base",
    "botocore.credentials",
    "numexpr.utils",
)


class RefusedDateError(ValueError):
    """The run asks for a day this DAG cannot honestly load (a snapshot backfill, a future day, no source data)."""


def quiet_libraries() -> None:
    """Hold the noisy third-party loggers at WARNING (idempotent, cheap)."""
    for name in NOISY_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)


def deterministic_errors() -> tuple[type[BaseException], ...]:
    """The exception types whose outcome a retry cannot change (imported lazily: only when a task failed)."""
    import pydantic

    from madlake.catalog.io import CatalogError
    from madlake.lakehouse.writes import AuditFailedError, RowsOutsideFilterError

    types: list[type[BaseException]] = [
        RefusedDateError,
        AuditFailedError,
        RowsOutsideFilterError,
        CatalogError,
        pydantic.ValidationError,
        FileNotFoundError,
        LookupError,
    ]
    try:
        from madlake.sources.pypi.bigquery import BytesCapExceededError

        types.append(BytesCapExceededError)
    except ImportError:  # pragma: no cover - optional client missing
        pass
    try:
        from madlake.dashboard.site import NoGoldDataError

        types.append(NoGoldDataError)
    except ImportError:  # pragma: no cover
        pass
    return tuple(types)


def is_deterministic(exc: BaseException) -> bool:
    """True when retrying cannot change the outcome (see the module docstring)."""
    return isinstance(exc, deterministic_errors())


def guarded(fn: F) -> F:
    """Decorate a task body: deterministic errors become ``AirflowFailException`` (no retries), logs are quiet.

    Use it under ``@task`` so the TaskFlow signature (``params``, ``**context``) is preserved::

        @task(pool=Pool.BIGQUERY, outlets=[...])
        @guarded
        def load_pypi_day() -> dict: ...
    """

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        quiet_libraries()
        try:
            return fn(*args, **kwargs)
        except Exception as exc:
            from airflow.sdk.exceptions import AirflowFailException, AirflowSkipException

            if isinstance(exc, AirflowFailException | AirflowSkipException) or not is_deterministic(exc):
                raise
            log.error("%s: %s (deterministic: failing without retries)", type(exc).__name__, exc)
            raise AirflowFailException(f"{type(exc).__name__}: {exc}") from exc

    wrapper.__madlake_guarded__ = True  # type: ignore[attr-defined]
    return wrapper  # type: ignore[return-value]
