"""Watchlists: named lists of tools and categories whose events (``tool_events``) are sent, paged and fed.

* :mod:`madlake.watchlists.rules`: the event rules' thresholds, in one place.
* :mod:`madlake.watchlists.events`: ``tool_events`` computed from the monthly gold tables (a ``gold_metrics`` task).
* :mod:`madlake.watchlists.io`: ``watchlists.yaml`` (or the Airflow Variable ``madlake_watchlists``), validated
  against the tools catalog.
* :mod:`madlake.watchlists.delivery`: once per event through Airflow's HTTP notifier, logged in
  ``watchlist_deliveries``.
* :mod:`madlake.watchlists.feed` and :mod:`madlake.watchlists.pages`: the Atom feeds and the "what changed" page.

Importing this package is cheap (no pyarrow, pyiceberg or Airflow).
"""
