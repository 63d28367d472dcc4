"""`python -m motherduck_provider.from_terraform`: see `cli.py`."""

from __future__ import annotations

import sys

from .cli import main

sys.exit(main())
