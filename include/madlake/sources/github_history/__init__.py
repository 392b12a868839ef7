"""Real GitHub repository history from public files: EvanLi/Github-Ranking's daily top-100 lists and the monthly
``history/<date>_projects.csv`` snapshots of ml-tooling's best-of-ml-python and best-of-python.

* :mod:`.parse`: rows of those files → ``github_repo_history`` rows, dead letters, untracked counts.
* :mod:`.replay`: the genuine files under ``$MADLAKE_REPLAY_DIR/github/`` (``github-ranking/``,
  ``best-of-ml-python/``, ``best-of-python/``).
* :mod:`.live`: the same files by date from ``raw.githubusercontent.com`` over httpx.

Nothing here writes to the lakehouse; :mod:`madlake.pipelines.github_history` does.
"""
