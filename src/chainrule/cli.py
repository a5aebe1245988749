"""The ``chainrule`` command."""

from __future__ import annotations

import argparse
import sys


def _info(args) -> int:
    import platform

    import numpy as np

    import chainrule

    print(f"chainrule {chainrule.__version__}")
    print(f"python    {platform.python_version()} ({platform.machine()})")
    print(f"numpy     {np.__version__}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="chainrule", description="Deep learning from first principles on NumPy.")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")
    sub.add_parser("info", help="versions, BLAS and threads").set_defaults(func=_info)
    return p


def main(argv=None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 0
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
