"""Generated data for benchmarks and tests, never for the product path: every row it makes is labeled sample.

* :mod:`bench.synth.dashboard` — gold v2 (``tool_monthly_metrics``, ``popularity_index`` v2) shaped like the real
  history (gaps, below-list months, PyPI method breaks, partial Reddit coverage), plus Reddit mentions and the items
  they point at, for the dashboard's tests and ``bench/bench_dashboard.py``.
"""
