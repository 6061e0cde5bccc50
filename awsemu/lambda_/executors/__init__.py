"""
How an execution environment is run: the executor starts the function's
runtime (a local process, or a container) pointed at its own Runtime API,
and reports its output and its end.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Protocol

import attrs
from twisted.internet.defer import Deferred

from awsemu.lambda_.peers import Address

Output = Callable[[bytes], None]
"""Receives what the runtime writes to stdout and stderr, as it comes."""


@attrs.frozen
class EnvironmentSpec:
    """
    Everything an executor needs to start one environment. ``code`` and
    ``layers`` are unpacked directories (``/var/task`` and ``/opt``);
    ``variables`` is the complete environment, ``AWS_LAMBDA_RUNTIME_API``
    included; ``image`` is set for image functions, ``runtime`` and
    ``handler`` for zip ones. ``command`` overrides the image's command
    (an image function's ``ImageConfig``).
    """

    environment_id: str
    function_name: str
    variables: Mapping[str, str]
    runtime: str | None = None
    handler: str | None = None
    code: str | None = None
    layers: str | None = None
    image: str | None = None
    command: tuple[str, ...] = ()
    entry_point: tuple[str, ...] = ()
    working_directory: str | None = None


class EnvironmentFailed(Exception):
    """
    The environment cannot run the function (its image cannot be had): the
    invocation fails as a function whose environment failed to start does
    in AWS, with an error document of ``error_type``, not a service error.
    """

    error_type = "Runtime.Unknown"


class Handle(Protocol):
    """A started environment."""

    @property
    def ended(self) -> Deferred[str]:
        """Fires once the runtime is gone, with how: ``exit status 1``, ``signal: killed``."""

    def stop(self) -> Deferred[None]:
        """Stop the runtime; fires once it and anything it held (a container) are gone."""

    def flushed(self) -> Deferred[None]:
        """
        Fires once the output the runtime wrote before now has been handed
        to ``output`` (it travels apart from the Runtime API's calls).
        """

    def peak_memory(self) -> int | None:
        """The environment's peak memory use so far, in bytes; None if it cannot be read."""


class Executor(Protocol):
    """Runs environments; a Service-owned object with its own resources."""

    @property
    def name(self) -> str: ...

    @property
    def runtime_interface(self) -> str:
        """The address the Runtime API listens on so this executor's environments reach it."""

    def check(self, runtime: str | None, image: str | None) -> None:
        """Raise the service error for a function this executor cannot run, before it starts."""

    def start(self, spec: EnvironmentSpec, output: Output) -> Deferred[Handle]:
        """Start an environment; fails if it cannot be started at all."""

    def admits(self, environment_id: str, client: Address, server: Address) -> bool:
        """
        Whether the connection from ``client`` to the environment's Runtime
        API at ``server`` comes from the environment (see ``peers``): known
        from the moment ``start`` is called until the environment is stopped.
        """

    def remove_orphans(self) -> Deferred[None]:
        """Remove environments a previous daemon left behind (it was killed)."""

    def close(self) -> Deferred[None]:
        """Release what the executor holds (a Docker client), once its environments are gone."""
