"""Allow ``python -m infdash``."""

from infdash.cli import main

raise SystemExit(main())
