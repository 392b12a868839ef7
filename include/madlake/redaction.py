"""One place that keeps credentials out of log records, exception text, alert payloads and dead letters.

:func:`redact` replaces, in any text:

* every credential the process knows: the password and secret-looking extras of every ``AIRFLOW_CONN_*`` connection
  (JSON or URI form), the value of every environment variable whose name says it holds a secret (``*TOKEN*``,
  ``*SECRET*``, ``*PASSWORD*``, ``*API_KEY*``, ``*ACCESS_KEY*``, ``*_KEY``, ...), and values handed to
  :func:`register_secret` (e.g. a token read from a connection in the Airflow database);
* credential shapes wherever they come from: ``user:password@`` in URLs, ``token=``/``access_token=``/``key=``/
  ``signature=`` query parameters, ``Authorization: Bearer|token|Basic ...``, ``"password": "..."``-style JSON
  fields, GitHub (``ghp_...``, ``github_pat_...``), OpenAI-style (``sk-...``) and AWS (``AKIA...``) keys, PEM private
  key blocks.

:func:`install` (called when :mod:`madlake` is imported) applies it to every log record the process creates (message
and traceback, through a log-record factory, so no handler or logger can miss it) and hands the known credentials
to Airflow's own secrets masker when Airflow is loaded, which also masks what Airflow logs itself (the task-failure
traceback). The alert callback and the CLI call :func:`redact` on what they send or print; dead letters store
redacted reasons and payloads.

Values shorter than :data:`MIN_SECRET_LENGTH` are not treated as secrets (they would redact ordinary words).
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import re
import sys
import threading
from collections.abc import Iterable
from typing import Any
from urllib.parse import unquote, urlsplit

MASK = "***"
MIN_SECRET_LENGTH = 6

#: Environment variable names that hold a credential.
SECRET_NAME = re.compile(
    r"(PASSWORD|PASSWD|SECRET|TOKEN|API_?KEY|ACCESS_KEY|PRIVATE_KEY|CREDENTIAL|_KEY$|^KEY$|WEBHOOK)", re.IGNORECASE
)
#: Keys of a connection's extra (or of nested JSON such as a service-account key) that hold a credential.
SECRET_KEY = re.compile(
    r"(password|passwd|secret|token|api_?key|access_?key|private_?key|credential|keyfile|^key$|auth)", re.IGNORECASE
)

_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    (
        re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----.*?(?:-----END [A-Z ]*PRIVATE KEY-----|\Z)", re.DOTALL),
        "[REDACTED PRIVATE KEY]",
    ),
    (re.compile(r"(?<=://)([^/\s:@'\"]+):([^/\s@'\"]+)@"), r"\1:" + MASK + "@"),
    (
        re.compile(
            r"(?i)([?&;](?:access_token|refresh_token|id_token|token|api_key|apikey|key|client_secret|secret|password|"
            r"passwd|sig|signature|x-amz-signature|x-amz-credential|x-amz-security-token|code)=)[^&\s'\"#<>]+"
        ),
        r"\1" + MASK,
    ),
    (
        re.compile(r"(?i)(authorization['\"]?\s*[:=]\s*['\"]?(?:bearer|token|basic|bot)\s+)[A-Za-z0-9._~+/=-]+"),
        r"\1" + MASK,
    ),
    (re.compile(r"(?i)\b(bearer\s+)[A-Za-z0-9._~+/=-]{12,}"), r"\1" + MASK),
    (
        re.compile(
            r"(?i)([\"'](?:password|passwd|secret|client_secret|token|access_token|refresh_token|api_key|apikey|"
            r"private_key|secret_access_key|aws_secret_access_key)[\"']\s*:\s*[\"'])[^\"']+"
        ),
        r"\1" + MASK,
    ),
    (re.compile(r"\b(?:gh[pousr]_[A-Za-z0-9]{16,}|github_pat_[A-Za-z0-9_]{20,})"), MASK),
    (re.compile(r"\bsk-[A-Za-z0-9_-]{16,}"), MASK),
    (re.compile(r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b"), MASK),
)

_registered: set[str] = set()
_lock = threading.Lock()
_cache: dict[str, Any] = {"key": None, "secrets": (), "shared": ()}


def register_secret(value: Any) -> None:
    """Treat ``value`` (and, for a dict or list, its secret-looking fields) as a credential from now on."""
    found = set(_secret_values(value, force=isinstance(value, str)))
    if not found:
        return
    with _lock:
        _registered.update(found)
        _cache["key"] = None
    _share_with_airflow(found)


def _secret_values(value: Any, *, force: bool = False) -> Iterable[str]:
    """Strings to mask in ``value``: itself when ``force``; else the values of secret-looking keys, recursively."""
    if isinstance(value, str):
        if force and len(value) >= MIN_SECRET_LENGTH:
            yield value
            yield from _encoded_forms(value)
        return
    if isinstance(value, dict):
        for k, v in value.items():
            yield from _secret_values(v, force=force or bool(SECRET_KEY.search(str(k))))
    elif isinstance(value, list | tuple):
        for v in value:
            yield from _secret_values(v, force=force)


def _encoded_forms(value: str) -> Iterable[str]:
    """A secret as it may appear in JSON text (escaped) or in a URL (percent-decoded)."""
    escaped = json.dumps(value)[1:-1]
    if escaped != value:
        yield escaped
    decoded = unquote(value)
    if decoded != value and len(decoded) >= MIN_SECRET_LENGTH:
        yield decoded


def _connection_secrets(raw: str) -> Iterable[str]:
    """The password and the secret-looking extras of one ``AIRFLOW_CONN_*`` value (JSON or URI form)."""
    text = raw.strip()
    if text.startswith("{"):
        try:
            conn = json.loads(text)
        except ValueError:
            return
        if not isinstance(conn, dict):
            return
        password = conn.get("password")
        if password:
            yield from _secret_values(str(password), force=True)
        extra = conn.get("extra")
        if isinstance(extra, str):
            try:
                extra = json.loads(extra)
            except ValueError:
                extra = None
        yield from _secret_values(extra)
        return
    try:
        parts = urlsplit(text)
    except ValueError:
        return
    if parts.password:
        yield from _secret_values(unquote(parts.password), force=True)
    for key, _, value in (p.partition("=") for p in parts.query.split("&") if p):
        if SECRET_KEY.search(unquote(key)):
            yield from _secret_values(unquote(value), force=True)


def known_secrets() -> tuple[str, ...]:
    """Every credential the process knows (see the module docstring), longest first; cached per environment."""
    items = tuple(
        sorted((k, v) for k, v in os.environ.items() if k.upper().startswith("AIRFLOW_CONN_") or SECRET_NAME.search(k))
    )
    with _lock:
        key = (items, len(_registered))
        if _cache["key"] == key:
            return tuple(_cache["secrets"])
        found: set[str] = set(_registered)
    for name, value in items:
        if name.upper().startswith("AIRFLOW_CONN_"):
            found.update(_connection_secrets(value))
        elif value.strip():
            found.update(_secret_values(value.strip(), force=True))
    secrets = tuple(sorted((s for s in found if len(s) >= MIN_SECRET_LENGTH), key=len, reverse=True))
    with _lock:
        new = set(secrets) - set(_cache["shared"])
        _cache.update(key=key, secrets=secrets, shared=tuple(set(_cache["shared"]) | set(secrets)))
    if new:  # a credential appeared (a variable set, a connection read): tell Airflow's masker too
        _share_with_airflow(new)
    return secrets


def redact(text: Any) -> str:
    """``text`` (made a string) with every known credential and credential shape replaced by :data:`MASK`."""
    out = text if isinstance(text, str) else str(text)
    for secret in known_secrets():
        if secret in out:
            out = out.replace(secret, MASK)
    for pattern, replacement in _PATTERNS:
        out = pattern.sub(replacement, out)
    return out


def redact_obj(value: Any) -> Any:
    """:func:`redact` applied to every string inside dicts, lists and tuples (keys included); the rest unchanged."""
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {redact_obj(k): redact_obj(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(redact_obj(v) for v in value)
    return value


class RedactedError(Exception):
    """Base of exceptions whose message may carry text from outside (an error body, a URL): redacted when raised.

    Needed because a traceback can be rendered by code that never sees a log record (Airflow's console renderer), so
    the exception's own text must already be clean.
    """

    def __init__(self, *args: Any) -> None:
        super().__init__(*(redact(a) if isinstance(a, str) else a for a in args))


def redact_exception(exc: BaseException, _depth: int = 0) -> BaseException:
    """Redact ``exc``'s args in place, and those of its cause and context chain (as Airflow's masker does)."""
    if _depth > 20:
        return exc
    with contextlib.suppress(AttributeError, TypeError):
        exc.args = tuple(redact(a) if isinstance(a, str) else a for a in exc.args)
    for linked in (exc.__cause__, exc.__context__):
        if linked is not None and linked is not exc:
            redact_exception(linked, _depth + 1)
    return exc


# --------------------------------------------------------------------------------------------------------------------
# Logging
# --------------------------------------------------------------------------------------------------------------------

_formatter = logging.Formatter()


def redact_record(record: logging.LogRecord) -> logging.LogRecord:
    """Redact a log record in place: its message (args merged in) and its traceback text."""
    try:
        message = record.getMessage()
    except Exception:  # a broken format string: logging reports it at emit time, as usual
        return record
    clean = redact(message)
    if clean != message:
        record.msg, record.args = clean, None
    if record.exc_info and record.exc_info[1] is not None:
        redact_exception(record.exc_info[1])  # whoever renders this exception later sees it clean
        record.exc_text = redact(record.exc_text or _formatter.formatException(record.exc_info))
    if record.stack_info:
        record.stack_info = redact(record.stack_info)
    return record


class RedactingFilter(logging.Filter):
    """A logging filter doing :func:`redact_record` (for handlers set up outside this process's record factory)."""

    def filter(self, record: logging.LogRecord) -> bool:
        redact_record(record)
        return True


_state = {"installed": False}


def install() -> None:
    """Redact every log record this process creates, and share the known credentials with Airflow's masker.

    Idempotent and cheap (no imports beyond the standard library); called when :mod:`madlake` is imported.
    """
    if not _state["installed"]:
        previous = logging.getLogRecordFactory()

        def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
            return redact_record(previous(*args, **kwargs))

        logging.setLogRecordFactory(factory)
        _state["installed"] = True
    known_secrets()


def _share_with_airflow(secrets: Iterable[str]) -> None:
    """Register ``secrets`` with Airflow's secrets masker if Airflow's logging is loaded (never imports it).

    Called whenever the set of known credentials grows (it is recomputed on the first log record after a change),
    so a token set in the environment after startup is masked in what Airflow logs itself as well.
    """
    sdk_log = sys.modules.get("airflow.sdk.log")
    mask = getattr(sdk_log, "mask_secret", None)
    if mask is None:
        return
    for secret in secrets:
        try:
            mask(secret)
        except Exception:  # the masker is best effort on top of the record factory
            return
