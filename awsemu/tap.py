"""
The C{twistd awsemu} command line and the service it starts.

twistd imports this module just to print C{--help}, so importing it must
stay cheap and must not choose a reactor: the daemon, and with it every
service, is imported only by L{makeService}.
"""

from __future__ import annotations

import os
import signal
import sys
from collections.abc import Mapping, Sequence
from typing import Any, Final

from twisted.application.service import IService, MultiService
from twisted.python import usage

from awsemu import __version__
from awsemu.config import OPTIONS, Config, ConfigError, config_from_options


class Options(usage.Options):
    """
    One C{--option} for each entry of L{OPTIONS}.

    Every option defaults to C{None}, so that L{postOptions} can tell an
    option left out, which falls back to its C{AWSEMU_*} variable, from one
    given; the real defaults live in L{Config}.

    @ivar config: The parsed settings, once options have been parsed.
    """

    synopsis = "[options]"
    optParameters = [[option.name, None, None, option.describe()] for option in OPTIONS]

    config: Config

    def __init__(self, environ: Mapping[str, str] = os.environ) -> None:
        """
        @param environ: The environment to read C{AWSEMU_*} variables
            from; twistd constructs this class with no arguments, hence the
            process environment by default.
        """
        super().__init__()
        self._environ = environ

    def parseOptions(self, options: Sequence[str] | None = None) -> None:
        """
        Parse, reporting any mistake on one line (with where the options are
        listed) rather than after twistd's pages of usage.
        """
        try:
            super().parseOptions(options)
        except usage.UsageError as e:
            raise SystemExit(f"twistd awsemu: {e} (see: twistd awsemu --help)") from e

    def opt_version(self) -> None:
        """Show awsemu's version and exit."""
        from twisted import __version__ as twisted_version

        print(f"awsemu {__version__} (Twisted {twisted_version})")
        raise SystemExit(0)

    def postOptions(self) -> None:
        """
        Build L{config}, reporting a bad value as a usage error rather than a
        traceback; and unless C{--pidfile} was given, write no pid file (see
        L{_no_default_pidfile}).
        """
        try:
            self.config = config_from_options(self, self._environ)
        except ConfigError as e:
            raise usage.UsageError(str(e)) from e
        _no_default_pidfile(getattr(self, "parent", None))


#: The pid file twistd writes in the working directory unless told otherwise.
TWISTD_DEFAULT_PIDFILE = "twistd.pid"


def _no_default_pidfile(server_options: Any) -> None:
    """
    Clear twistd's default pid file: a C{twistd.pid} left in the working
    directory stops a second daemon started there (on another port) and
    outlives a killed one, and neither systemd nor Docker needs it. twistd's
    own options are parsed before a plugin's (which run as a subcommand) and
    made absolute after, so the default is still its bare name here; a
    C{--pidfile} given (even C{./twistd.pid}) is kept.
    """
    if server_options is not None and server_options.get("pidfile") == TWISTD_DEFAULT_PIDFILE:
        server_options["pidfile"] = ""


def _without_crt_signers() -> None:
    """
    Keep botocore from loading awscrt's signers in the daemon. botocore
    imports ``awscrt.auth`` whenever awscrt is installed (awsemu needs it
    for S3's CRC32C and CRC64NVME), which costs the daemon about 50 ms and
    5 MiB at start; the daemon reads botocore's models and signs nothing.
    Only the daemon's process is affected: twistd runs this, not an import.
    """
    sys.modules.setdefault("awscrt.auth", None)  # type: ignore[arg-type]


def _interrupt_from_start(reactor: Any) -> None:
    """
    Stop on SIGINT (Ctrl-C) from now on, as the reactor does once it runs.
    Twisted installs its handlers during the reactor's startup, after the
    services' ``startService`` ran ("before startup"); until then Python's
    own handler raises ``KeyboardInterrupt`` wherever the main thread is,
    and a Deferred whose callback it interrupted (the gateway's start,
    DynamoDB Local's readiness) kept it as a failure: the daemon went on
    running and logged nothing. The reactor's ``sigInt`` stops it once it
    runs, and says so in the log. A handler set before (SIG_IGN under
    ``nohup``) is left alone.
    """
    sig_int = getattr(reactor, "sigInt", None)
    if sig_int is not None and signal.getsignal(signal.SIGINT) is signal.default_int_handler:
        signal.signal(signal.SIGINT, sig_int)


def makeService(options: Options) -> IService:
    """
    Build the daemon's root service for twistd.

    This is the one place the global reactor is fetched: by now twistd has
    installed the reactor it was asked for.
    """
    from twisted.internet import reactor

    from awsemu.shared import SharedObjects
    from awsemu.state.datadir import make_private

    _without_crt_signers()
    # Run by twistd, whose options are the parent of ours: see awsemu.logobserver.
    server_options = getattr(options, "parent", None)
    shared = SharedObjects(options.config, reactor)
    try:
        if options.config.data_dir is not None:
            make_private(options.config.data_dir)
        if "dynamodb" in options.config.services and starts_in_place(server_options):
            from awsemu.dynamodb.jvm import start_early

            start_early(shared)
        from awsemu.daemon import make_root_service

        root: IService = make_root_service(options.config, reactor, shared)
    except OSError as e:
        # Making the stores creates --data-dir's directories.
        raise SystemExit(f"awsemu: cannot start: {e} (check --data-dir)") from e
    from awsemu.logobserver import HeldLines, WithLogObserver, observer_for, twistd_log_file

    if server_options is None:
        return root
    _interrupt_from_start(reactor)
    if server_options.get("nodaemon"):
        root = _ExitOnStartFailure(root)
    out = twistd_log_file(server_options)
    if out is None:
        return root
    lines = HeldLines(out, reactor)
    return WithLogObserver(root, observer_for(options.config.log_format, lines), lines)


#: twistd's options that change the process after L{makeService}: it forks
#: unless C{--nodaemon}, and these change its user, root or file mode.
_CHANGES_PROCESS: Final = ("uid", "gid", "chroot", "umask")


def starts_in_place(server_options: Any) -> bool:
    """
    Whether processes the daemon starts in L{makeService} stay its own,
    running as they would from C{startService}: under twistd C{--nodaemon}
    (so no fork leaves them to a parent that exits) with none of
    L{_CHANGES_PROCESS}. Then DynamoDB Local starts at once (see
    L{awsemu.dynamodb.jvm.start_early}), while the gateway loads.
    """
    return (
        server_options is not None
        and bool(server_options.get("nodaemon"))
        and all(server_options.get(name) is None for name in _CHANGES_PROCESS)
    )


class _ExitOnStartFailure(MultiService):
    """
    The root service of a daemon run in the foreground: a failure to start
    (a port in use...) ends twistd with its one-line reason, where twistd
    would print a traceback. (A daemonized twistd already reports the
    exception's text alone, through its status pipe.)
    """

    def __init__(self, root: IService) -> None:
        super().__init__()
        root.setServiceParent(self)

    def privilegedStartService(self) -> None:
        from awsemu.daemon import StartFailure

        try:
            super().privilegedStartService()
        except StartFailure as e:
            raise SystemExit(f"awsemu: {e}") from e
