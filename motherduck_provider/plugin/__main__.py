"""`pulumi-resource-motherduck` (the engine runs it) and `python -m motherduck_provider.plugin`.

pulumi-resource-motherduck <engine address> [flags]   serve the provider (the engine does this)
python -m motherduck_provider.plugin schema [--out F]  write the package schema (JSON)
python -m motherduck_provider.plugin serve <engine address>
python -m motherduck_provider.plugin migrate [--stack NAME] [--dry-run]   a Python stack's state
                                                                       to the plugin form
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    """The engine passes the engine address first, then flags such as `--logtostderr`."""
    args = list(sys.argv[1:] if argv is None else argv)
    if args and args[0] == "schema":
        from . import schema

        parser = argparse.ArgumentParser(prog="python -m motherduck_provider.plugin schema")
        parser.add_argument("--out", type=Path, help="write here instead of stdout")
        options = parser.parse_args(args[1:])
        if options.out:
            options.out.write_text(schema.text())
        else:
            sys.stdout.write(schema.text())
        return 0
    if args and args[0] == "migrate":
        from . import migrate

        return migrate.main(args[1:])
    if args and args[0] == "serve":
        args = args[1:]
    engine = next((a for a in args if not a.startswith("-")), None)
    if engine is None:
        print(__doc__, file=sys.stderr)
        return 2
    from .provider import PluginError
    from .server import serve

    try:
        serve(engine)
    except PluginError as exc:  # a bad setting: one line, no traceback
        print(f"pulumi-resource-motherduck: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
