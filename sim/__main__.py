"""``python -m sim``: the same command line as ``bureausim``."""

from sim.app.cli import main

raise SystemExit(main())
