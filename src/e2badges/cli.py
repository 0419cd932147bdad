"""The ``e2badges`` command line.

``e2badges db upgrade --url URL [--prefix e2b_] [--revision head]`` creates or
migrates the SQL store's tables (a SQLite file is created only when there is
something to write); ``e2badges db current --url URL`` prints the schema version
(``none`` when the tables are absent; it only reads, and a SQLite file that does
not exist is an error, not created).  ``--table-prefix`` is ``--prefix`` under the
Python option's name; ``e2badges --version`` prints the version.  Exit status 0
on success, 1 on an error (its one-line message on stderr), 2 on a usage error.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from ._errors import E2BadgesError
from ._version import __version__

__all__ = ["main"]

URL_VARIABLE = "E2BADGES_DATABASE_URL"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="e2badges", description="e2badges administration.")
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    # metavar: what a usage error calls a missing command (argparse would give the dest).
    commands = parser.add_subparsers(dest="group", metavar="command", required=True)
    db = commands.add_parser("db", help="manage the SQL store's schema")
    actions = db.add_subparsers(dest="action", metavar="command", required=True)
    for name, text in (
        ("upgrade", "create or migrate the tables to a schema version (needs e2badges[alembic])"),
        ("current", "print the schema version of the tables"),
    ):
        action = actions.add_parser(name, help=text, description=text)
        action.add_argument(
            "--url",
            default=os.environ.get(URL_VARIABLE),
            help=f"database URL, e.g. sqlite:///rewards.db (default: ${URL_VARIABLE})",
        )
        action.add_argument(
            "--prefix",
            "--table-prefix",
            dest="prefix",
            default="e2b_",
            help="table prefix (default: e2b_)",
        )
        if name == "upgrade":
            action.add_argument(
                "--revision", default="head", help="target revision (default: head)"
            )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line with ``argv`` (default: ``sys.argv[1:]``); return the exit status."""
    parser = _parser()
    args = parser.parse_args(argv)
    if not args.url:
        parser.error(f"give --url or set {URL_VARIABLE}")
    from .storage import sqlalchemy as sql  # noqa: PLC0415  # keeps `e2badges --help` light

    try:
        if args.action == "upgrade":
            version = sql.upgrade(args.url, table_prefix=args.prefix, revision=args.revision)
            shown = "none" if version is None else version
            print(f"schema version {shown} (tables with prefix {args.prefix!r})")
        else:
            found = sql.schema_version(args.url, table_prefix=args.prefix)
            print("none" if found is None else found)
    except E2BadgesError as exc:
        print(f"e2badges: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
