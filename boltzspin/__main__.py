"""``python -m boltzspin`` runs the command line (same as the ``boltzspin`` script)."""

from .studies.cli import main

raise SystemExit(main())
