"""The genuine history files under a replay root (``$MADLAKE_REPLAY_DIR/github``), laid out as in the history folder:

    github-ranking/DERIVED_tracked_repos_<year>.csv.gz    every tracked repo's rows of that year's daily files
    best-of-ml-python/<YYYY-MM-DD>_projects.csv.gz        one monthly snapshot each
    best-of-python/<YYYY-MM-DD>_projects.csv.gz

Plain ``.csv`` files are accepted beside ``.csv.gz``. The bundled replay (``include/madlake/replay/github``) holds the
DERIVED files as they are and best-of snapshots trimmed to the tracked projects' rows (same names and columns); a
folder laid out like the public history folder (``../shared/data/history``, the full snapshots) replays unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

from madlake.sources.github_history.parse import BEST_OF_FILE_RE, DERIVED_FILE_RE, RANKING, HistoryFileError


@dataclass(frozen=True)
class ReplayFile:
    """One file of the replay root: its history source, its path and the day it is of (None for DERIVED years)."""

    source: str
    path: Path
    day: date | None = None
    year: int | None = None

    @property
    def name(self) -> str:
        """``<source folder>/<file name>``: how logs and dead letters name the file."""
        return f"{self.path.parent.name}/{self.path.name}"


class ReplayFiles:
    """Finds the files of a replay root that cover a range of days."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def ranking_files(self, start: date, end: date) -> list[ReplayFile]:
        """The DERIVED files of the years ``start..end`` touches (a year without a file is simply absent)."""
        folder = self.root / RANKING
        found: dict[int, Path] = {}
        for path in sorted(folder.glob("DERIVED_tracked_repos_*.csv*")) if folder.is_dir() else []:
            match = DERIVED_FILE_RE.match(path.name)
            if match and start.year <= int(match.group(1)) <= end.year:
                found.setdefault(int(match.group(1)), path)  # .csv sorts before .csv.gz: a plain file wins
        return [ReplayFile(RANKING, found[y], year=y) for y in sorted(found)]

    def best_of_files(self, source: str, start: date, end: date) -> tuple[list[ReplayFile], list[HistoryFileError]]:
        """The snapshots of ``source`` dated ``start..end``, and the files in its folder that cannot be dated."""
        folder = self.root / source
        files: dict[date, ReplayFile] = {}
        undatable: list[HistoryFileError] = []
        for path in sorted(folder.iterdir()) if folder.is_dir() else []:
            if not path.is_file() or path.name.startswith("."):
                continue
            match = BEST_OF_FILE_RE.match(path.name)
            day = None
            if match:
                try:
                    day = date.fromisoformat(match.group(1))
                except ValueError:
                    day = None
            if day is None:
                if path.name.endswith((".csv", ".csv.gz")):
                    problem = "cannot date a best-of snapshot: expected <YYYY-MM-DD>_projects.csv"
                    undatable.append(HistoryFileError(f"{source}/{path.name}", problem))
                continue
            if start <= day <= end:
                files.setdefault(day, ReplayFile(source, path, day=day))
        return [files[d] for d in sorted(files)], undatable
