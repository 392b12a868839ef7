"""``python -m madlake.cli``: the ``madlake`` command."""

from madlake.cli import main

raise SystemExit(main())
