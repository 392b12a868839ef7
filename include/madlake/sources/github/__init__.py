"""GitHub source: a quota-aware REST + GraphQL client (httpx), its 127.0.0.1 replay server, and the star arithmetic.

Modules: :mod:`~madlake.sources.github.client` (live and replay share it), :mod:`~madlake.sources.github.replay`
(recorded answers by API path), :mod:`~madlake.sources.github.models` (pydantic boundary),
:mod:`~madlake.sources.github.stars` (stargazer pages to daily rows), :mod:`~madlake.sources.github.state` (ETag
cache and backfill checkpoints). Importing this package imports nothing heavy.
"""
