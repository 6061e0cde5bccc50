"""Tests for L{awsemu.config}."""

from __future__ import annotations

import os

import attrs
from twisted.internet.endpoints import _SystemdParser
from twisted.python.filepath import FilePath
from twisted.python.systemd import ListenFDs
from twisted.trial.unittest import SynchronousTestCase

from awsemu import config as config_module
from awsemu.config import (
    KNOWN_SERVICES,
    OPTIONS,
    Config,
    ConfigError,
    LambdaUser,
    config_from_options,
    parse_data_dir,
    parse_lambda_user,
    parse_port,
    parse_region,
    parse_services,
    parse_state_dir,
)

README = FilePath(__file__).parent().sibling("README.rst")


class OptionTableTests(SynchronousTestCase):
    """L{OPTIONS} and L{Config} describe the same settings."""

    def test_every_option_sets_a_config_attribute(self) -> None:
        """Each option names one L{Config} attribute, and each attribute has its option."""
        self.assertEqual(
            sorted(option.attribute for option in OPTIONS),
            sorted(attrs.fields_dict(Config)),
        )

    def test_environment_variables(self) -> None:
        """An option's variable is its name, upper case, dashes as underscores."""
        self.assertEqual(
            [option.environment_variable for option in OPTIONS],
            [
                "AWSEMU_PORT",
                "AWSEMU_DATA_DIR",
                "AWSEMU_SERVICES",
                "AWSEMU_REGION",
                "AWSEMU_CACHE_DIR",
                "AWSEMU_DYNAMODB_LOCAL",
                "AWSEMU_JAVA",
                "AWSEMU_DYNAMODB_START",
                "AWSEMU_DYNAMODB_HEAP",
                "AWSEMU_S3_RESTORE_SECONDS",
                "AWSEMU_LAMBDA_EXECUTOR",
                "AWSEMU_LAMBDA_IMAGE",
                "AWSEMU_LAMBDA_NETWORK",
                "AWSEMU_LAMBDA_KEEP_ALIVE",
                "AWSEMU_LAMBDA_MAX_ENVIRONMENTS",
                "AWSEMU_LAMBDA_RETRY_DELAY",
                "AWSEMU_LAMBDA_PYTHON",
                "AWSEMU_LAMBDA_USER",
                "AWSEMU_AUTH",
                "AWSEMU_CREDENTIALS",
                "AWSEMU_IDLE_TIMEOUT",
                "AWSEMU_LOG_FORMAT",
                "AWSEMU_INIT_DIR",
            ],
        )

    def test_help_shows_variable_and_default(self) -> None:
        """An option's help ends with its variable and its default as typed."""
        (services,) = [option for option in OPTIONS if option.name == "services"]
        self.assertTrue(
            services.describe().endswith(
                f"[env: AWSEMU_SERVICES] [default: {','.join(KNOWN_SERVICES)}]"
            )
        )

    def test_readme_documents_every_option(self) -> None:
        """The README's options table lists every option and its variable."""
        readme = README.getContent().decode("utf-8")
        for option in OPTIONS:
            self.assertIn(f"``--{option.name}``", readme)
            self.assertIn(f"``{option.environment_variable}``", readme)


class ConfigFromOptionsTests(SynchronousTestCase):
    """L{config_from_options} merges the command line, the environment and defaults."""

    def test_defaults(self) -> None:
        """With nothing given, every setting has its default."""
        config = config_from_options({}, {})
        self.assertEqual(config, Config())
        self.assertEqual(
            config,
            Config(port="tcp:4566", data_dir=None, services=KNOWN_SERVICES, region="us-east-1"),
        )

    def test_environment(self) -> None:
        """A setting not given on the command line comes from its C{AWSEMU_*} variable."""
        config = config_from_options(
            {"port": None},
            {"AWSEMU_PORT": "5000", "AWSEMU_SERVICES": "sts", "AWSEMU_REGION": "eu-west-1"},
        )
        self.assertEqual(config, Config(port="tcp:5000", services=("sts",), region="eu-west-1"))

    def test_option_wins(self) -> None:
        """The command line overrides the environment."""
        config = config_from_options({"region": "ap-south-1"}, {"AWSEMU_REGION": "eu-west-1"})
        self.assertEqual(config.region, "ap-south-1")

    def test_empty_variable_is_unset(self) -> None:
        """A variable defined blank leaves the default in place."""
        self.assertEqual(config_from_options({}, {"AWSEMU_DATA_DIR": ""}), Config())

    def test_error_names_option(self) -> None:
        """A bad value given as an option is reported against the option."""
        e = self.assertRaises(ConfigError, config_from_options, {"region": "mars"}, {})
        self.assertEqual(str(e), "--region: 'mars' is not an AWS region name such as us-east-1")

    def test_error_names_variable(self) -> None:
        """A bad value from the environment is reported against the variable."""
        e = self.assertRaises(ConfigError, config_from_options, {}, {"AWSEMU_SERVICES": "ec2"})
        self.assertTrue(str(e).startswith("AWSEMU_SERVICES: unknown service ec2 (known: "))


class ParsePortTests(SynchronousTestCase):
    """L{parse_port} accepts Twisted server endpoint descriptions."""

    def test_bare_number(self) -> None:
        """A number alone is a TCP port."""
        self.assertEqual(parse_port("4566"), "tcp:4566")

    def test_description(self) -> None:
        """A description passes through unchanged."""
        self.assertEqual(parse_port("tcp:4566:interface=127.0.0.1"), "tcp:4566:interface=127.0.0.1")

    def test_systemd(self) -> None:
        """
        A systemd description passes through when systemd passed a socket.

        Twisted reads the sockets systemd passed once, at import; the
        parser is given one here as if systemd had.
        """
        self.patch(_SystemdParser, "_sddaemon", ListenFDs([3]))
        self.assertEqual(parse_port("systemd:domain=INET:index=0"), "systemd:domain=INET:index=0")

    def test_systemd_without_socket(self) -> None:
        """A systemd description is refused when systemd passed no socket at that index."""
        self.patch(_SystemdParser, "_sddaemon", ListenFDs([]))
        self.assertRaises(ConfigError, parse_port, "systemd:domain=INET:index=0")

    def test_systemd_without_socket_says_why(self) -> None:
        """
        Without a socket from systemd, the reason is systemd's, with the
        fixes, not the IndexError or KeyError Twisted's parser raises.
        """
        self.patch(_SystemdParser, "_sddaemon", ListenFDs([]))
        self.patch(os, "environ", {})
        for description in ("systemd:domain=INET:index=0", "systemd:domain=INET:name=awsemu"):
            e = self.assertRaises(ConfigError, parse_port, description)
            self.assertEqual(
                str(e),
                f"{description!r}: systemd passed no socket (LISTEN_FDS is not set for this"
                " process); start awsemu from its .socket unit (or systemd-socket-activate),"
                " or listen on a port with --port 4566",
            )

    def test_port_out_of_range(self) -> None:
        """A TCP port past 65535 is refused now, not when the daemon binds it."""
        e = self.assertRaises(ConfigError, parse_port, "99999")
        self.assertEqual(
            str(e), "port 99999 is out of range: give a port from 1 to 65535, such as 4566"
        )

    def test_bad_argument(self) -> None:
        """An argument the endpoint type cannot use is refused, with Twisted's reason."""
        e = self.assertRaises(ConfigError, parse_port, "tcp:notaport")
        self.assertEqual(
            str(e),
            "'tcp:notaport' is not a usable server endpoint "
            "(ValueError: invalid literal for int() with base 10: 'notaport')",
        )

    def test_unknown_type(self) -> None:
        """An endpoint type nothing provides is refused."""
        self.assertRaises(ConfigError, parse_port, "carrier-pigeon:4566")


class ParseDataDirTests(SynchronousTestCase):
    """L{parse_data_dir} accepts a place a directory is or can be."""

    def test_existing_directory(self) -> None:
        """An existing directory is accepted."""
        path = FilePath(self.mktemp())
        path.makedirs()
        self.assertEqual(parse_data_dir(path.path), path)

    def test_missing_directory(self) -> None:
        """A path where nothing is yet is accepted: the daemon may create it."""
        path = FilePath(self.mktemp())
        self.assertEqual(parse_data_dir(path.path), path)

    def test_file(self) -> None:
        """A path holding a file is refused."""
        path = FilePath(self.mktemp())
        path.setContent(b"")
        e = self.assertRaises(ConfigError, parse_data_dir, path.path)
        self.assertEqual(str(e), f"{path.path!r} exists and is not a directory")

    def test_empty(self) -> None:
        """An empty path is refused rather than taken for the current directory."""
        self.assertRaises(ConfigError, parse_data_dir, "")

    def test_under_a_file(self) -> None:
        """A path that could only be made under a file is refused, naming that file."""
        path = FilePath(self.mktemp())
        path.setContent(b"")
        e = self.assertRaises(ConfigError, parse_state_dir, path.child("state").path)
        self.assertTrue(str(e).startswith(f"{path.path!r} is not a directory this user"), e)

    def test_unwritable(self) -> None:
        """A directory this user cannot write to is refused, with the fixes."""
        path = FilePath(self.mktemp())
        path.makedirs()
        self.patch(os, "access", lambda name, mode: name != path.path)
        e = self.assertRaises(ConfigError, parse_state_dir, path.child("state").path)
        self.assertIn(f"{path.path!r} is not a directory this user (", str(e))
        # A cache directory is only read when what it holds is installed.
        self.assertEqual(parse_data_dir(path.path), path)
        self.assertTrue(str(e).endswith("choose another directory or change its owner"))


class ParseServicesTests(SynchronousTestCase):
    """
    L{parse_services} accepts comma-separated known service names.

    The services known are made a fixed list here, since which ones exist
    grows as they are implemented.
    """

    def setUp(self) -> None:
        self.patch(config_module, "KNOWN_SERVICES", ("s3", "sts", "dynamodb"))

    def test_names(self) -> None:
        """Names are kept in order, once each, whatever spaces and case surround them."""
        self.assertEqual(parse_services(" S3, dynamodb,,s3 "), ("s3", "dynamodb"))

    def test_unknown(self) -> None:
        """A name awsemu does not know is refused, with the names it knows."""
        e = self.assertRaises(ConfigError, parse_services, "s3,ec2,sqs")
        self.assertEqual(
            str(e),
            "unknown service ec2, sqs (known: s3, sts, dynamodb)",
        )

    def test_none(self) -> None:
        """A list naming no service is refused."""
        self.assertRaises(ConfigError, parse_services, " , ")


class ParseRegionTests(SynchronousTestCase):
    """L{parse_region} accepts names shaped like AWS regions."""

    def test_regions(self) -> None:
        """Region names of every shape AWS uses are accepted."""
        for region in ["us-east-1", "eu-central-2", "us-gov-west-1", "ap-southeast-4"]:
            self.assertEqual(parse_region(region), region)

    def test_not_regions(self) -> None:
        """Anything else is refused."""
        for text in ["", "us-east", "US-EAST-1", "useast1", "us-east-1a", "us-east-١"]:
            self.assertRaises(ConfigError, parse_region, text)


class ParseLambdaUserTests(SynchronousTestCase):
    """L{parse_lambda_user} accepts a uid range, a uid or a user name."""

    def test_default(self) -> None:
        """By default every environment gets its own uid from a range no account uses."""
        user = Config().lambda_user
        self.assertTrue(user.per_environment)
        self.assertEqual((user.first, user.last), (0x70000000, 0x70000000 + 65535))
        (option,) = [option for option in OPTIONS if option.name == "lambda-user"]
        self.assertTrue(option.describe().endswith("[default: 1879048192-1879113727]"))

    def test_accepted(self) -> None:
        """A range, a single uid, and names (root keeps functions root)."""
        self.assertEqual(parse_lambda_user("5000-5009"), LambdaUser(5000, 5009))
        self.assertFalse(parse_lambda_user("5000").per_environment)
        self.assertEqual(parse_lambda_user("root"), LambdaUser(0, 0))
        self.assertEqual(parse_lambda_user("nobody"), LambdaUser(65534, 65534))
        self.assertEqual(
            config_from_options({}, {"AWSEMU_LAMBDA_USER": "7-9"}).lambda_user, LambdaUser(7, 9)
        )

    def test_refused(self) -> None:
        """Empty, backwards or root-including ranges, and unknown users, are refused."""
        for text in ["", "9-7", "0-10", "5-5", "1-99999999999", "no-such-user-here", "-5"]:
            self.assertRaises(ConfigError, parse_lambda_user, text)


class ParseAuthTests(SynchronousTestCase):
    """C{--auth} and C{--credentials}."""

    def test_modes(self) -> None:
        """The three modes are accepted; anything else names them."""
        for mode in ("off", "verify"):
            self.assertEqual(config_from_options({"auth": mode}, {}).auth, mode)
        e = self.assertRaises(ConfigError, config_from_options, {}, {"AWSEMU_AUTH": "strict"})
        self.assertEqual(str(e), "AWSEMU_AUTH: 'strict' is not one of off, verify, enforce")

    def test_default(self) -> None:
        """Known keys are verified unless told otherwise."""
        self.assertEqual(Config().auth, "verify")

    def test_credentials_file(self) -> None:
        """A credentials file with a key is accepted as a path; ``enforce`` needs one."""
        path = FilePath(self.mktemp())
        path.setContent(b"[me]\naws_access_key_id = AKIAME\naws_secret_access_key = s\n")
        self.assertEqual(config_from_options({"credentials": path.path}, {}).credentials, path)
        config = config_from_options({"auth": "enforce"}, {"AWSEMU_CREDENTIALS": path.path})
        self.assertEqual((config.auth, config.credentials), ("enforce", path))
        e = self.assertRaises(ConfigError, config_from_options, {"auth": "enforce"}, {})
        self.assertEqual(
            str(e),
            "--auth enforce needs --credentials (or AWSEMU_CREDENTIALS): without a key awsemu"
            " knows, every request would be refused",
        )

    def test_bad_credentials_file(self) -> None:
        """A missing file, or one without a usable key, is refused with the reason."""
        missing = self.mktemp()
        e = self.assertRaises(ConfigError, config_from_options, {"credentials": missing}, {})
        self.assertTrue(str(e).startswith(f"--credentials: {FilePath(missing).path!r}: "))
        path = FilePath(self.mktemp())
        path.setContent(b"[me]\naws_access_key_id = AKIAME\n")
        e = self.assertRaises(ConfigError, config_from_options, {"credentials": path.path}, {})
        self.assertEqual(
            str(e),
            f"--credentials: {path.path!r}: profile 'me' needs both aws_access_key_id and"
            " aws_secret_access_key",
        )
