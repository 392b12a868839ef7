"""The lakehouse layer: catalogs per profile, table definitions as code, and the three write modes.

Write modes (see :mod:`madlake.lakehouse.writes`):

* ``replace_partition``: overwrite exactly the rows matching a filter (a run's day); rerunning replaces, never appends.
* ``merge``: upsert on a key, limited to the partitions the incoming rows touch.
* ``write_audit_publish``: stage on a branch, audit there, publish to ``main`` only if the audit passed and ``main`` has
  not moved since the branch was cut.
"""
