"""`python -m tools.docs_reference [--check]`: write (or check) the generated reference docs."""

from __future__ import annotations

import argparse
import sys

from . import COMMAND, stale, write


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog=COMMAND, description=__doc__)
    parser.add_argument("--check", action="store_true", help="write nothing; fail if stale")
    args = parser.parse_args(argv)
    if args.check:
        found = stale()
        for path in found:
            print(f"{path} differs from the code; run `{COMMAND}`", file=sys.stderr)
        return 1 if found else 0
    for path in write():
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
