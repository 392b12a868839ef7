"""The LLM enrichment cache: one SQLite file under ``MADLAKE_HOME``, keyed by (text hash, tool, prompt version, model).

Why SQLite and not an Iceberg table: lookups are point reads of a few keys per text, at thousands per second, from
one task at a time (the enrichment task runs in the ``llm_api`` pool). The file lives at
``<MADLAKE_HOME>/cache/llm_mentions.sqlite`` and survives across runs and backfills, so reprocessing an unchanged text
with the same prompt version and model makes zero LLM calls. Changing the prompt version or the model misses the
cache on purpose. On the aws profile point ``MADLAKE_HOME`` at a persistent volume shared by the workers (or accept
that a fresh worker starts with a cold cache: correctness does not depend on it, only cost).

Writes are committed per text; a crash loses at most the answer being written. Concurrent writers are safe (SQLite
locking, ``busy_timeout`` 30 s).
"""

from __future__ import annotations

import hashlib
import sqlite3
from pathlib import Path

from madlake.config import get_settings
from madlake.mentions.models import ToolAssessment


def text_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def default_cache_path() -> Path:
    return get_settings().home_dir / "cache" / "llm_mentions.sqlite"


class EnrichmentCache:
    """Get and put validated :class:`ToolAssessment` answers."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path or default_cache_path()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._con = sqlite3.connect(self.path, timeout=30, check_same_thread=False)
        self._con.execute("pragma busy_timeout = 30000")
        self._con.execute("pragma journal_mode = wal")
        self._con.execute(
            "create table if not exists assessments (text_sha256 text not null, tool_id text not null, "
            "prompt_version text not null, model text not null, answer_json text not null, created_at text not null "
            "default (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')), "
            "primary key (text_sha256, tool_id, prompt_version, model))"
        )
        self._con.commit()

    def get(self, digest: str, tool_ids: list[str], prompt_version: str, model: str) -> dict[str, ToolAssessment]:
        if not tool_ids:
            return {}
        marks = ",".join("?" * len(tool_ids))
        rows = self._con.execute(
            f"select tool_id, answer_json from assessments where text_sha256 = ? and prompt_version = ? "
            f"and model = ? and tool_id in ({marks})",
            [digest, prompt_version, model, *tool_ids],
        ).fetchall()
        return {tool_id: ToolAssessment.model_validate_json(answer) for tool_id, answer in rows}

    def put(self, digest: str, answers: list[ToolAssessment], prompt_version: str, model: str) -> None:
        self._con.executemany(
            "insert or replace into assessments (text_sha256, tool_id, prompt_version, model, answer_json) "
            "values (?, ?, ?, ?, ?)",
            [(digest, a.tool_id, prompt_version, model, a.model_dump_json()) for a in answers],
        )
        self._con.commit()

    def __len__(self) -> int:
        return int(self._con.execute("select count(*) from assessments").fetchone()[0])

    def close(self) -> None:
        self._con.close()
