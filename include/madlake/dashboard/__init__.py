"""The MAD dashboard: a static, offline-capable site built from the gold tables by the ``dashboard_publish`` DAG.

* :mod:`madlake.dashboard.queries` — the parameterized SQL the pages run (``queries/*.sql``).
* :mod:`madlake.dashboard.site` — renders the pages (Jinja2 templates + vendored chart script) into a folder.
* :mod:`madlake.dashboard.publish` — copies a built site to ``<MADLAKE_HOME>/dashboard/`` or S3.
* :mod:`madlake.dashboard.links` — Reddit links built from ids on the real host; external links show their host.

Nothing here generates data: the generated gold the tests and the benchmark use lives in ``bench/synth``.
"""
