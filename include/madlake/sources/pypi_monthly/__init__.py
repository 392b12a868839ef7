"""Monthly PyPI download counts from every snapshot of hugovk/top-pypi-packages (``pypi_downloads_monthly``).

* :mod:`.parse`: the three JSON shapes of ``top-pypi-packages-30-days.json`` -> one row per tracked project.
* :mod:`.methods` + ``methods.yaml``: how each snapshot counted (pip-30d, all-30d, all-shrinking, calendar-month).
* :mod:`.fetch`: replay folder, or GitHub's commits API + raw files + the published JSON (live).
* :mod:`.trim`: the trimming behind the bundled replay (``scripts/trim_pypi_history.py``).

Not imported at DAG parse time: the DAG files import it inside their task bodies.
"""

from __future__ import annotations

from madlake.sources.pypi_monthly.methods import Method, load_methods
from madlake.sources.pypi_monthly.parse import ParsedSnapshot, SnapshotRejectedError, normalize, parse_snapshot

__all__ = ["Method", "ParsedSnapshot", "SnapshotRejectedError", "load_methods", "normalize", "parse_snapshot"]
