"""
The daemon's settings, read from the command line and the environment.

Every setting is described once, in L{OPTIONS}: its name, how its text is
parsed and checked, and its help. The C{twistd awsemu} options and the
C{AWSEMU_*} environment variables are both generated from that table, so a
new setting is one L{Option} entry plus one L{Config} attribute (which
holds its default).
"""

from __future__ import annotations

import math
import os
import pwd
import re
import sys
from collections.abc import Callable, Mapping
from typing import Any

import attrs
from twisted.internet.endpoints import serverFromString
from twisted.internet.testing import MemoryReactor
from twisted.python.filepath import FilePath

from awsemu.services import SERVICE_FACTORIES

KNOWN_SERVICES: tuple[str, ...] = tuple(SERVICE_FACTORIES)

_BARE_PORT = re.compile(r"[0-9]+")
_REGION = re.compile(r"[a-z]{2}(-[a-z]+)+-[0-9]+")
_HEAP = re.compile(r"[0-9]+[kKmMgG]?")


class ConfigError(ValueError):
    """A setting's value cannot be used; the message says why, on one line."""


# Lambda's function user (--lambda-user).


@attrs.frozen
class LambdaUser:
    """
    Who functions run as when the daemon runs as root: the uids C{first} to
    C{last}, each execution environment its own one (C{first} < C{last}), or
    one uid for all of them (C{first} == C{last}; 0 keeps them root).
    """

    first: int
    last: int

    @property
    def per_environment(self) -> bool:
        return self.first < self.last

    def __str__(self) -> str:
        return str(self.first) if self.first == self.last else f"{self.first}-{self.last}"


DEFAULT_LAMBDA_USER = LambdaUser(1879048192, 1879113727)
"""
65536 uids from 0x70000000, a block systemd leaves unused (above its
container range, below 2^31), so no account or container owns them.
"""

_UID = 0xFFFFFFFE


def parse_lambda_user(text: str) -> LambdaUser:
    """
    Accept a uid range C{FIRST-LAST}, a uid, or a user name (C{root} keeps
    functions root).
    """
    first, dash, last = text.partition("-")
    if dash and _BARE_PORT.fullmatch(first) and _BARE_PORT.fullmatch(last):
        if not 0 < int(first) < int(last) <= _UID:
            raise ConfigError(f"{text!r} is not a range of uids such as 1879048192-1879113727")
        return LambdaUser(int(first), int(last))
    if _BARE_PORT.fullmatch(text) and int(text) <= _UID:
        return LambdaUser(int(text), int(text))
    try:
        uid = pwd.getpwnam(text).pw_uid
    except KeyError:
        raise ConfigError(f"{text!r} is neither a uid range FIRST-LAST, a uid nor a user") from None
    return LambdaUser(uid, uid)


@attrs.frozen
class Config:
    """
    What the daemon was asked to do, already parsed and checked.

    L{config_from_options} builds one from text; code that has values in
    hand (tests, mostly) constructs it directly.

    @ivar port: A Twisted server endpoint description to listen on.
    @ivar data_dir: Where state is kept, or C{None} to keep it in memory only.
    @ivar services: The services to serve, by their endpoint prefix.
    @ivar region: The region assumed for requests that do not name one.
    @ivar cache_dir: Where downloaded tools (DynamoDB Local) are kept, or
        C{None} for the user's cache directory.
    @ivar dynamodb_local: The DynamoDB Local to run (a jar or its
        directory), or C{None} for the one installed in the cache.
    @ivar java: The java executable that runs DynamoDB Local.
    @ivar dynamodb_start: C{eager} to start DynamoDB Local with the daemon,
        C{lazy} to start it on the first DynamoDB request.
    @ivar dynamodb_heap: DynamoDB Local's maximum heap (C{-Xmx}), or
        C{None} for the JVM's default.
    @ivar s3_restore_seconds: How long an S3 restore of an archived object
        takes, in seconds, or C{None} for AWS's time for its class and tier.
    @ivar lambda_executor: How Lambda runs functions: C{docker}, C{process}
        (local Python processes) or C{auto} (Docker when an engine answers).
    @ivar lambda_image: Images overriding the default image of a runtime,
        as C{(runtime, image)} pairs.
    @ivar lambda_network: The Docker network mode of Lambda containers.
    @ivar lambda_keep_alive: Seconds an idle execution environment is kept warm.
    @ivar lambda_max_environments: The most environments one function
        version runs at once; more concurrent invocations wait.
    @ivar lambda_retry_delay: Seconds between retries of a failed C{Event} invocation.
    @ivar lambda_python: The Python (with awslambdaric) the process executor runs.
    @ivar lambda_user: Who functions run as when the daemon runs as root.
    @ivar auth: How signatures are checked: C{off}, C{verify} (keys awsemu
        knows must sign correctly) or C{enforce} (every request must be
        signed with a known key).
    @ivar credentials: An AWS CLI credentials file whose keys awsemu knows,
        or C{None}.
    @ivar idle_timeout: Seconds a client connection may stay silent (between
        requests, or inside a request's head or body) before it is closed.
    @ivar log_format: C{text} (twistd's classic lines) or C{json} (one
        object per line, for log shippers).
    @ivar init_dir: The directory of init hooks (C{boot.d}, C{start.d},
        C{ready.d}, C{shutdown.d}), or C{None} for C{/etc/awsemu/init} when
        it exists.
    """

    port: str = "tcp:4566"
    data_dir: FilePath[str] | None = None
    services: tuple[str, ...] = KNOWN_SERVICES
    region: str = "us-east-1"
    cache_dir: FilePath[str] | None = None
    dynamodb_local: FilePath[str] | None = None
    java: str = "java"
    dynamodb_start: str = "eager"
    dynamodb_heap: str | None = None
    s3_restore_seconds: float | None = 0.0
    lambda_executor: str = "auto"
    lambda_image: tuple[tuple[str, str], ...] = ()
    lambda_network: str = "host"
    lambda_keep_alive: float = 600.0
    lambda_max_environments: int = 20
    lambda_retry_delay: float = 60.0
    lambda_python: str = sys.executable
    lambda_user: LambdaUser = DEFAULT_LAMBDA_USER
    auth: str = "verify"
    credentials: FilePath[str] | None = None
    idle_timeout: float = 60.0
    log_format: str = "text"
    init_dir: FilePath[str] | None = None


def parse_port(text: str) -> str:
    """
    Accept a Twisted server endpoint description such as
    C{tcp:4566:interface=127.0.0.1} or C{systemd:domain=INET:index=0}; a
    bare number is a TCP port.

    The description is checked by building its endpoint against a
    L{MemoryReactor}: building an endpoint listens on nothing, and it runs
    Twisted's own parser for the endpoint type (plugins included), so what
    is accepted here is what the daemon can build at startup. The real
    reactor is not used because twistd has not installed it yet when it
    parses options.
    """
    description = f"tcp:{text}" if _BARE_PORT.fullmatch(text) else text
    try:
        endpoint = serverFromString(MemoryReactor(), description)
    except Exception as e:
        if description.startswith("systemd:") and isinstance(e, (IndexError, KeyError)):
            raise ConfigError(_no_systemd_socket(description)) from e
        # Each endpoint type's parser reports bad arguments with whatever
        # exception converting them raised (ValueError, TypeError, KeyError,
        # OSError for an unreadable certificate...), so any of them means
        # the description is unusable.
        raise ConfigError(
            f"{description!r} is not a usable server endpoint ({type(e).__name__}: {e})"
        ) from e
    port = getattr(endpoint, "_port", None)
    if isinstance(port, int) and not 0 <= port <= 65535:
        raise ConfigError(f"port {port} is out of range: give a port from 1 to 65535, such as 4566")
    return description


def _no_systemd_socket(description: str) -> str:
    """Why a C{systemd:} endpoint found no socket, and what to do about it."""
    fds, names = os.environ.get("LISTEN_FDS"), os.environ.get("LISTEN_FDNAMES")
    passed = (
        "systemd passed no socket (LISTEN_FDS is not set for this process)"
        if fds is None
        else f"systemd passed {fds} socket(s) named {names or '(unnamed)'}"
    )
    return (
        f"{description!r}: {passed}; start awsemu from its .socket unit (or"
        " systemd-socket-activate), or listen on a port with --port 4566"
    )


def parse_data_dir(text: str) -> FilePath[str]:
    """
    Accept a directory to keep things in.

    Only something other than a directory in the way is rejected: a missing
    directory can still be created when the daemon starts.
    """
    if not text:
        raise ConfigError("the data directory must not be empty")
    path = FilePath(text)
    if path.exists() and not path.isdir():
        raise ConfigError(f"{path.path!r} exists and is not a directory")
    return path


def parse_state_dir(text: str) -> FilePath[str]:
    """
    Accept a directory to keep state in: as L{parse_data_dir}, and one this
    user can write to (or create), since the daemon writes there from its start.
    """
    path = parse_data_dir(text)
    existing = path
    while not existing.exists() and existing.parent() != existing:
        existing = existing.parent()
    if not existing.isdir() or not os.access(existing.path, os.W_OK | os.X_OK):
        raise ConfigError(
            f"{existing.path!r} is not a directory this user ({_user()}) can write to:"
            " choose another directory or change its owner"
        )
    return path


def _user() -> str:
    """This process's user, by name where it has one."""
    import pwd

    try:
        return pwd.getpwuid(os.geteuid()).pw_name
    except KeyError:
        return f"uid {os.geteuid()}"


def parse_services(text: str) -> tuple[str, ...]:
    """
    Accept a comma-separated list of known service names, such as
    C{s3,dynamodb}, keeping the first occurrence of each.
    """
    names = tuple(dict.fromkeys(n.strip().lower() for n in text.split(",") if n.strip()))
    unknown = [name for name in names if name not in KNOWN_SERVICES]
    if unknown:
        raise ConfigError(
            f"unknown service {', '.join(unknown)} (known: {', '.join(KNOWN_SERVICES)})"
        )
    if not names:
        raise ConfigError(f"no service named (known: {', '.join(KNOWN_SERVICES)})")
    return names


def parse_region(text: str) -> str:
    """Accept a name shaped like an AWS region's, such as C{eu-west-1}."""
    if not _REGION.fullmatch(text):
        raise ConfigError(f"{text!r} is not an AWS region name such as us-east-1")
    return text


def parse_path(text: str) -> FilePath[str]:
    """Accept a file or directory path; whether it is usable is checked where it is used."""
    if not text:
        raise ConfigError("the path must not be empty")
    return FilePath(text)


def parse_nonempty(text: str) -> str:
    """Accept any text but the empty one, such as a program's name."""
    if not text:
        raise ConfigError("the value must not be empty")
    return text


def parse_start(text: str) -> str:
    """Accept C{eager} or C{lazy}."""
    if text not in ("eager", "lazy"):
        raise ConfigError(f"{text!r} is neither eager nor lazy")
    return text


def parse_heap(text: str) -> str:
    """Accept a JVM memory size such as C{512m} or C{2g}."""
    if not _HEAP.fullmatch(text):
        raise ConfigError(f"{text!r} is not a JVM memory size such as 512m or 2g")
    return text


def parse_executor(text: str) -> str:
    """Accept C{auto}, C{docker} or C{process}."""
    if text not in ("auto", "docker", "process"):
        raise ConfigError(f"{text!r} is not one of auto, docker, process")
    return text


def parse_images(text: str) -> tuple[tuple[str, str], ...]:
    """Accept comma-separated C{RUNTIME=IMAGE} pairs, such as C{python3.12=my/python:3.12}."""
    pairs = []
    for item in filter(None, (part.strip() for part in text.split(","))):
        runtime, _, image = item.partition("=")
        if not runtime or not image:
            raise ConfigError(f"{item!r} is not RUNTIME=IMAGE")
        pairs.append((runtime, image))
    return tuple(pairs)


def parse_seconds(text: str) -> float:
    """Accept a positive number of seconds."""
    try:
        seconds = float(text)
    except ValueError:
        seconds = -1.0
    if not seconds > 0:
        raise ConfigError(f"{text!r} is not a positive number of seconds")
    return seconds


def parse_restore_seconds(text: str) -> float | None:
    """Accept a number of seconds, zero or more, or C{aws} (C{None}: AWS's times)."""
    if text == "aws":
        return None
    try:
        seconds = float(text)
    except ValueError:
        seconds = -1.0
    if not 0 <= seconds < math.inf:
        raise ConfigError(f"{text!r} is neither a number of seconds (0 or more) nor aws")
    return seconds


def parse_count(text: str) -> int:
    """Accept a positive whole number."""
    if not _BARE_PORT.fullmatch(text) or int(text) == 0:
        raise ConfigError(f"{text!r} is not a positive whole number")
    return int(text)


AUTH_MODES: tuple[str, ...] = ("off", "verify", "enforce")


def parse_auth(text: str) -> str:
    """Accept C{off}, C{verify} or C{enforce}."""
    if text not in AUTH_MODES:
        raise ConfigError(f"{text!r} is not one of {', '.join(AUTH_MODES)}")
    return text


def parse_credentials(text: str) -> FilePath[str]:
    """
    Accept an AWS CLI credentials file with at least one key; the daemon
    reads it again when it starts.
    """
    from awsemu.auth.keys import read_credentials

    path = parse_path(text)
    try:
        read_credentials(path.getContent().decode("utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as e:
        raise ConfigError(f"{path.path!r}: {e}") from e
    return path


def parse_log_format(text: str) -> str:
    """Accept C{text} or C{json}."""
    if text not in ("text", "json"):
        raise ConfigError(f"{text!r} is neither text nor json")
    return text


def parse_init_dir(text: str) -> FilePath[str]:
    """Accept an existing directory of init hooks."""
    path = parse_path(text)
    if not path.isdir():
        raise ConfigError(f"{path.path!r} is not a directory (of boot.d, start.d, ready.d...)")
    return path


def _show(value: object) -> str:
    """Write a default value the way a user would type it."""
    if value is None:
        return "none"
    if isinstance(value, tuple):
        return ",".join("=".join(item) if isinstance(item, tuple) else str(item) for item in value)
    return str(value)


@attrs.frozen
class Option:
    """
    One setting: C{--NAME} on the command line, C{AWSEMU_NAME} (upper case,
    dashes as underscores) in the environment, and the L{Config} attribute
    named like the option with dashes as underscores, which gives its default.

    @ivar parse: Turns the text given for the option into the L{Config}
        value, raising L{ConfigError} if it cannot.
    """

    name: str
    parse: Callable[[str], Any]
    help: str

    @property
    def attribute(self) -> str:
        """The L{Config} attribute this option sets."""
        return self.name.replace("-", "_")

    @property
    def environment_variable(self) -> str:
        """The environment variable read when the option is not given."""
        return "AWSEMU_" + self.attribute.upper()

    @property
    def default(self) -> object:
        """The value used when neither the option nor its variable is given."""
        return attrs.fields_dict(Config)[self.attribute].default

    def describe(self) -> str:
        """The option's help, with where else it can be set and its default."""
        return f"{self.help} [env: {self.environment_variable}] [default: {_show(self.default)}]"


OPTIONS: tuple[Option, ...] = (
    Option(
        "port",
        parse_port,
        "Server endpoint to listen on, e.g. tcp:4566:interface=127.0.0.1; a number is a TCP port.",
    ),
    Option(
        "data-dir",
        parse_state_dir,
        "Directory to keep state in; without one, nothing is written to disk.",
    ),
    Option("services", parse_services, "Comma-separated services to serve."),
    Option("region", parse_region, "Region assumed for requests that do not name one."),
    Option(
        "cache-dir",
        parse_data_dir,
        "Directory of downloaded tools such as DynamoDB Local; none means"
        " $XDG_CACHE_HOME/awsemu or ~/.cache/awsemu.",
    ),
    Option(
        "dynamodb-local",
        parse_path,
        "DynamoDB Local to run (its jar or directory); none means the one"
        " `awsemu install dynamodb-local` put in the cache directory.",
    ),
    Option("java", parse_nonempty, "Java executable that runs DynamoDB Local."),
    Option(
        "dynamodb-start",
        parse_start,
        "eager: start DynamoDB Local with the daemon; lazy: on the first DynamoDB request.",
    ),
    Option("dynamodb-heap", parse_heap, "Maximum heap of DynamoDB Local's JVM, e.g. 512m."),
    Option(
        "s3-restore-seconds",
        parse_restore_seconds,
        "Seconds every S3 restore of a GLACIER or DEEP_ARCHIVE object takes (0: ready at"
        " once); aws: AWS's time for the class and tier (up to 48 hours).",
    ),
    Option(
        "lambda-executor",
        parse_executor,
        "How Lambda functions run: docker, process (local Python processes, Python"
        " runtimes only) or auto (docker when an engine answers).",
    ),
    Option(
        "lambda-image",
        parse_images,
        "Images to run runtimes in instead of public.ecr.aws/lambda/<runtime>, as"
        " RUNTIME=IMAGE,... (e.g. python3.12=awsemu/lambda-python:3.12).",
    ),
    Option("lambda-network", parse_nonempty, "Docker network mode of Lambda containers."),
    Option("lambda-keep-alive", parse_seconds, "Seconds an idle Lambda environment stays warm."),
    Option(
        "lambda-max-environments",
        parse_count,
        "Most environments one function version runs at once; more invocations wait.",
    ),
    Option(
        "lambda-retry-delay",
        parse_seconds,
        "Seconds between the retries of a failed Event invocation (AWS: about 60).",
    ),
    Option(
        "lambda-python",
        parse_nonempty,
        "Python interpreter (with awslambdaric installed) of the process executor.",
    ),
    Option(
        "lambda-user",
        parse_lambda_user,
        "When the daemon runs as root: uids functions run as, FIRST-LAST (each environment"
        " its own), or one uid or user name for all (root keeps them root).",
    ),
    Option(
        "auth",
        parse_auth,
        "Signature checks: off; verify (keys awsemu knows must sign correctly, others pass);"
        " enforce (unsigned requests and unknown keys are refused).",
    ),
    Option(
        "credentials",
        parse_credentials,
        "AWS CLI credentials file of root keys awsemu knows; a profile's aws_account_id"
        " (12 digits) picks its account, else 000000000000.",
    ),
    Option(
        "idle-timeout",
        parse_seconds,
        "Seconds a client connection may stay silent, between requests or inside one,"
        " before it is closed.",
    ),
    # Operations: how the daemon logs, and the hooks it runs.
    Option(
        "log-format",
        parse_log_format,
        "text: twistd's classic log lines; json: one JSON object per line.",
    ),
    Option(
        "init-dir",
        parse_init_dir,
        "Directory of init hooks (boot.d, start.d, ready.d, shutdown.d); none means"
        " /etc/awsemu/init when it exists.",
    ),
)


def config_from_options(given: Mapping[str, str | None], environ: Mapping[str, str]) -> Config:
    """
    Build the L{Config} from the command line and the environment.

    @param given: The text of each option by name, C{None} (or absent) for
        an option not given on the command line.
    @param environ: The process environment, consulted for options not
        given. An empty variable counts as unset, since container tools
        commonly define variables blank rather than leave them out.

    @raise ConfigError: naming the option or variable whose value is bad.
    """
    values: dict[str, Any] = {}
    for option in OPTIONS:
        source, text = f"--{option.name}", given.get(option.name)
        if text is None:
            source = option.environment_variable
            text = environ.get(source) or None
        if text is not None:
            try:
                values[option.attribute] = option.parse(text)
            except ConfigError as e:
                raise ConfigError(f"{source}: {e}") from e
    if values.get("auth") == "enforce" and values.get("credentials") is None:
        raise ConfigError(
            "--auth enforce needs --credentials (or AWSEMU_CREDENTIALS): without a key"
            " awsemu knows, every request would be refused"
        )
    return Config(**values)
