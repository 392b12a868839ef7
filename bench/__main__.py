"""Run every ``bench/bench_*.py`` module's ``main()`` in turn (or the ones named on the command line).

Each runs in its own Python process, so one benchmark's Airflow home, lakehouse and imports cannot leak into the next.
"""

from __future__ import annotations

import pkgutil
import subprocess
import sys
import time
from pathlib import Path


def main(argv: list[str]) -> int:
    names = sorted(m.name for m in pkgutil.iter_modules([str(Path(__file__).parent)]) if m.name.startswith("bench_"))
    if argv:
        names = [n for n in names if any(a in n for a in argv)]
    failed = []
    for name in names:
        print(f"\n=== {name} ===", flush=True)
        start = time.perf_counter()
        code = f"import bench.{name} as m; m.main()"
        rc = subprocess.run([sys.executable, "-c", code], cwd=Path(__file__).resolve().parents[1], check=False)
        if rc.returncode != 0:
            failed.append(name)
            print(f"!!! {name} failed (exit code {rc.returncode})", flush=True)
        print(f"--- {name}: {time.perf_counter() - start:.1f}s", flush=True)
    if failed:
        print(f"\nbenchmarks that failed: {', '.join(failed)}")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
