"""``python -m sim``: the same command line as ``bureausim``."""

from sim.cli import main

raise SystemExit(main())
