"""Tests for L{awsemu.tap}, the C{twistd awsemu} command line."""

from __future__ import annotations

import builtins
import os
import subprocess
import sys
from collections.abc import Mapping

import twisted
from twisted.python.filepath import FilePath
from twisted.scripts._twistd_unix import ServerOptions
from twisted.trial.unittest import SynchronousTestCase

from awsemu import __version__
from awsemu.config import Config
from awsemu.tap import Options, starts_in_place
from tests.daemon import ROOT


def parse(argv: list[str], environ: Mapping[str, str] | None = None) -> Config:
    """Parse C{argv} as twistd would, in C{environ}, and return the resulting config."""
    options = Options(environ={} if environ is None else environ)
    options.parseOptions(argv)
    return options.config


class OptionsTests(SynchronousTestCase):
    """L{Options} builds a L{Config} from the command line and the environment."""

    def test_defaults(self) -> None:
        """Without options or variables, the config has its defaults."""
        self.assertEqual(parse([]), Config())

    def test_every_option(self) -> None:
        """Each option sets its setting."""
        data = FilePath(self.mktemp())
        config = parse(
            [
                "--port=tcp:4566:interface=127.0.0.1",
                f"--data-dir={data.path}",
                "--services=sts",
                "--region=eu-west-1",
            ]
        )
        self.assertEqual(
            config,
            Config(
                port="tcp:4566:interface=127.0.0.1",
                data_dir=data,
                services=("sts",),
                region="eu-west-1",
            ),
        )

    def test_bare_port(self) -> None:
        """A bare port number means TCP."""
        self.assertEqual(parse(["--port", "8000"]).port, "tcp:8000")

    def test_environment(self) -> None:
        """An option not given is read from its variable."""
        config = parse([], {"AWSEMU_PORT": "8000", "AWSEMU_REGION": "eu-west-1"})
        self.assertEqual((config.port, config.region), ("tcp:8000", "eu-west-1"))

    def test_option_wins(self) -> None:
        """An option given overrides its variable."""
        self.assertEqual(parse(["--port", "9000"], {"AWSEMU_PORT": "8000"}).port, "tcp:9000")

    def test_bad_values(self) -> None:
        """
        A bad value, from an option or a variable, is a usage error whose
        one-line message names where the value came from.
        """
        a_file = FilePath(self.mktemp())
        a_file.setContent(b"")
        for argv, environ, prefix in [
            (["--services", "sts,ec2"], {}, "--services: unknown service ec2"),
            (["--region", "moon-1"], {}, "--region: 'moon-1' is not an AWS region"),
            (["--port", "tcp:notaport"], {}, "--port: 'tcp:notaport' is not a usable"),
            ([], {"AWSEMU_DATA_DIR": a_file.path}, f"AWSEMU_DATA_DIR: {a_file.path!r} exists"),
        ]:
            e = self.assertRaises(SystemExit, parse, argv, environ)
            message = str(e.code)
            self.assertTrue(message.startswith(f"twistd awsemu: {prefix}"), message)
            self.assertTrue(message.endswith("(see: twistd awsemu --help)"), message)
            self.assertNotIn("\n", message)

    def test_unknown_option(self) -> None:
        """An unknown option is one line too, not twistd's pages of usage."""
        e = self.assertRaises(SystemExit, parse, ["--bogus"])
        self.assertEqual(
            e.code, "twistd awsemu: option --bogus not recognized (see: twistd awsemu --help)"
        )

    def test_version(self) -> None:
        """C{--version} shows awsemu's version and exits with status 0."""
        printed: list[str] = []
        self.patch(builtins, "print", lambda *args, **kwargs: printed.append(" ".join(args)))
        e = self.assertRaises(SystemExit, parse, ["--version"])
        self.assertEqual(e.code, 0)
        self.assertEqual(printed, [f"awsemu {__version__} (Twisted {twisted.__version__})"])


def server_options(argv: list[str]) -> ServerOptions:
    """twistd's options for C{twistd ARGV awsemu}, awsemu being its one plugin."""

    class AwsemuOnly(ServerOptions):
        subCommands = [("awsemu", None, lambda: Options(environ={}), "awsemu")]

    options = AwsemuOnly()
    options.parseOptions([*argv, "awsemu"])
    return options


class PidFileTests(SynchronousTestCase):
    """Under twistd, awsemu writes a pid file only when C{--pidfile} asks for one."""

    def test_no_default_pidfile(self) -> None:
        """twistd's default C{twistd.pid} is not written."""
        self.assertEqual(server_options(["-n"])["pidfile"], "")

    def test_pidfile_given(self) -> None:
        """A C{--pidfile} given is kept (made absolute by twistd, as always)."""
        options = server_options(["-n", "--pidfile", "./twistd.pid"])
        self.assertEqual(options["pidfile"], os.path.abspath("twistd.pid"))


class StartsInPlaceTests(SynchronousTestCase):
    """
    DynamoDB Local is started from C{makeService} only when the processes it
    starts stay the daemon's, running as they would from C{startService}.
    """

    def test_nodaemon(self) -> None:
        """In the foreground (systemd, Docker, tests), it is."""
        self.assertTrue(starts_in_place(server_options(["-n"])))
        self.assertTrue(starts_in_place(server_options(["--nodaemon", "--pidfile="])))

    def test_daemon(self) -> None:
        """twistd forks after C{makeService} unless C{--nodaemon}: it is not."""
        self.assertFalse(starts_in_place(server_options([])))

    def test_changes_process(self) -> None:
        """Nor when twistd changes the user, root or file mode after C{makeService}."""
        for argv in (["--uid", "0"], ["--gid", "0"], ["--chroot", "/"], ["--umask", "022"]):
            self.assertFalse(starts_in_place(server_options(["-n", *argv])), argv)

    def test_without_twistd(self) -> None:
        """Nor when C{makeService} is called without twistd's options."""
        self.assertFalse(starts_in_place(None))


EARLY_INTERRUPT = """
import os, signal, sys, time
from twisted.internet import reactor
from twisted.internet.defer import Deferred
from twisted.scripts._twistd_unix import ServerOptions
from awsemu.tap import makeService

config = ServerOptions()
config.parseOptions(["--nodaemon", "--pidfile=", "--logfile=" + sys.argv[1], "awsemu",
    "--port", "tcp:0:interface=127.0.0.1", "--services", "sts"])
service = makeService(config.subOptions)
interrupted = Deferred()
interrupted.addCallback(lambda _: os.kill(os.getpid(), signal.SIGINT))
interrupted.callback(None)
reactor.callLater(30, reactor.stop)
started = time.monotonic()
reactor.addSystemEventTrigger("before", "shutdown", service.stopService)
service.startService()
reactor.run()
print(round(time.monotonic() - started, 1))
"""
"""
What twistd does between C{makeService} and its reactor's signal handlers,
with a Ctrl-C arriving while a Deferred's callback runs (as the gateway's
start or DynamoDB Local's readiness may be); the seconds the reactor then ran.
"""


class EarlyInterruptTests(SynchronousTestCase):
    """A Ctrl-C before the reactor installs its own handlers still stops the daemon."""

    def test_interrupt_during_start(self) -> None:
        """
        The daemon stops as soon as its reactor runs, where the Deferred
        used to swallow the C{KeyboardInterrupt} and the daemon ran on.
        """
        environment = {**os.environ, "PYTHONPATH": str(ROOT)}
        ran = subprocess.run(
            [sys.executable, "-c", EARLY_INTERRUPT, self.mktemp()],
            capture_output=True,
            env=environment,
            timeout=60,
            check=True,
        )
        self.assertLess(float(ran.stdout.split()[-1]), 10, ran.stderr.decode())
        self.assertNotIn(b"KeyboardInterrupt", ran.stderr)
