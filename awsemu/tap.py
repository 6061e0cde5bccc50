"""
The C{twistd awsemu} command line and the service it starts.

twistd imports this module just to print C{--help}, so importing it must
stay cheap and must not choose a reactor: the daemon, and with it every
service, is imported only by L{makeService}.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping

from twisted.application.service import IService
from twisted.python import usage

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

    def postOptions(self) -> None:
        """Build L{config}, reporting a bad value as a usage error rather than a traceback."""
        try:
            self.config = config_from_options(self, self._environ)
        except ConfigError as e:
            raise usage.UsageError(str(e)) from e


def _without_crt_signers() -> None:
    """
    Keep botocore from loading awscrt's signers in the daemon. botocore
    imports ``awscrt.auth`` whenever awscrt is installed (awsemu needs it
    for S3's CRC32C and CRC64NVME), which costs the daemon about 50 ms and
    5 MiB at start; the daemon reads botocore's models and signs nothing.
    Only the daemon's process is affected: twistd runs this, not an import.
    """
    sys.modules.setdefault("awscrt.auth", None)  # type: ignore[arg-type]


def makeService(options: Options) -> IService:
    """
    Build the daemon's root service for twistd.

    This is the one place the global reactor is fetched: by now twistd has
    installed the reactor it was asked for.
    """
    from twisted.internet import reactor

    _without_crt_signers()
    from awsemu.daemon import make_root_service
    from awsemu.logobserver import WithLogObserver, classic_observer, twistd_log_file
    from awsemu.state.datadir import make_private

    if options.config.data_dir is not None:
        make_private(options.config.data_dir)
    root = make_root_service(options.config, reactor)
    # Run by twistd, whose options are the parent of ours: see awsemu.logobserver.
    server_options = getattr(options, "parent", None)
    out = None if server_options is None else twistd_log_file(server_options)
    return root if out is None else WithLogObserver(root, classic_observer(out))
