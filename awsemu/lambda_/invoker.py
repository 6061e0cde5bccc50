"""
From a stored function version to running environments: the pools by
function version and revision, the unpacked code and layers they mount, and
the environment variables AWS sets in every environment.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import attrs
from twisted.internet.defer import Deferred, DeferredList
from twisted.internet.interfaces import IReactorFromThreads, IReactorTime
from twisted.internet.threads import deferToThreadPool
from twisted.python.threadpool import ThreadPool

from awsemu.lambda_ import errors, zips
from awsemu.lambda_.executors import EnvironmentSpec, Executor
from awsemu.lambda_.functions import Function, FunctionStore, Scope, Version
from awsemu.lambda_.invocations import Invocation, Outcome
from awsemu.lambda_.pool import Blueprint, FunctionPool, Listen, LogWriter

PoolKey = tuple[Scope, str, str, str]
"""A pool's function: scope, name, version number and the version's content revision."""

Credentials = Callable[[str], tuple[str, str, str]]
"""The access key id, secret and session token the functions of an account get."""


def account_credentials(account_id: str) -> tuple[str, str, str]:
    """Credentials that name the account (a 12-digit key id does), for unchecked daemons."""
    return account_id, "test", "test"


def variables(
    scope: Scope,
    config: dict[str, Any],
    log_stream: str,
    runtime_api: str,
    endpoint_url: str,
    credentials: Credentials = account_credentials,
) -> dict[str, str]:
    """
    The environment AWS gives a function, plus ``AWS_ENDPOINT_URL`` so the
    function's own SDK calls come back to this daemon, in the same account
    (``credentials`` are keys of that account); the function's own
    variables go on top.
    """
    account_id, region = scope
    key_id, secret, token = credentials(account_id)
    runtime = config.get("Runtime")
    found = {
        "AWS_LAMBDA_FUNCTION_NAME": config["FunctionName"],
        "AWS_LAMBDA_FUNCTION_VERSION": config["Version"],
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(config["MemorySize"]),
        "AWS_LAMBDA_LOG_GROUP_NAME": config["LoggingConfig"]["LogGroup"],
        "AWS_LAMBDA_LOG_STREAM_NAME": log_stream,
        "AWS_LAMBDA_RUNTIME_API": runtime_api,
        "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand",
        "AWS_REGION": region,
        "AWS_DEFAULT_REGION": region,
        "AWS_ACCESS_KEY_ID": key_id,
        "AWS_SECRET_ACCESS_KEY": secret,
        "AWS_SESSION_TOKEN": token,
        "AWS_ENDPOINT_URL": endpoint_url,
        "LAMBDA_RUNTIME_DIR": "/var/runtime",
        "LANG": "en_US.UTF-8",
        "TZ": ":UTC",
    }
    if runtime is not None:
        found["AWS_EXECUTION_ENV"] = f"AWS_Lambda_{runtime}"
        found["_HANDLER"] = config["Handler"]
    found.update(config.get("Environment", {}).get("Variables", {}))
    return found


@attrs.define
class Environments:
    """
    The ``Invoker`` the provider hands invocations to. ``work`` is where
    packages are unpacked (one directory per package, or per layer stack);
    ``threads`` does the unpacking; ``credentials`` are the functions' keys.
    """

    reactor: IReactorFromThreads
    clock: IReactorTime
    listen: Listen
    logs: LogWriter
    store: FunctionStore
    threads: ThreadPool
    work: Path
    endpoint_url: str
    limit: int
    keep_alive: float
    credentials: Credentials = account_credentials
    _executor: Executor | None = None
    _waiting: list[Deferred[Executor]] = attrs.field(factory=list)
    _pools: dict[PoolKey, FunctionPool] = attrs.field(factory=dict)
    _retired: list[FunctionPool] = attrs.field(factory=list)

    def use(self, executor: Executor) -> None:
        """
        Run environments with ``executor``, chosen once the service has
        started (``auto`` asks the Docker engine first); invocations that
        came earlier wait for it.
        """
        self._executor = executor
        waiting, self._waiting = self._waiting, []
        for waiter in waiting:
            waiter.callback(executor)

    async def executor(self) -> Executor:
        if self._executor is not None:
            return self._executor
        waiter: Deferred[Executor] = Deferred()
        self._waiting.append(waiter)
        return await waiter

    def invoke(
        self, scope: Scope, function: Function, version: Version, invocation: Invocation
    ) -> Deferred[Outcome]:
        return Deferred.fromCoroutine(self._invoke(scope, function, version, invocation))

    async def _invoke(
        self, scope: Scope, function: Function, version: Version, invocation: Invocation
    ) -> Outcome:
        key = (scope, function.name, version.number, version.content_revision)
        pool = self._pools.get(key)
        if pool is None:
            executor = await self.executor()
            blueprint = await self._blueprint(executor, scope, version)
            pool = self._pools.get(key)
            if pool is None:
                pool = FunctionPool(
                    blueprint,
                    executor,
                    self.clock,
                    self.listen,
                    self.logs,
                    self.limit,
                    self.keep_alive,
                )
                self._pools[key] = pool
        return await pool.invoke(invocation)

    async def _unpack(self, packages: list[str], directory: str, arn: str) -> str:
        def unpack() -> Path:
            try:
                data = [self.store.packages.get(key) for key in packages]
            except (OSError, KeyError) as e:
                # The function was deleted, its code with it, as this invocation started.
                raise errors.function_not_found(arn) from e
            return zips.unpack(data, target)

        name = hashlib.sha256("\0".join(packages).encode()).hexdigest()
        target = self.work / directory / name
        found: Path = await deferToThreadPool(self.reactor, self.threads, unpack)
        return str(found)

    async def _blueprint(self, executor: Executor, scope: Scope, version: Version) -> Blueprint:
        config = version.config
        runtime, image = config.get("Runtime"), config.get("_ImageUri")
        executor.check(runtime, image)
        arn = config["FunctionArn"]
        code = None if version.code is None else await self._unpack([version.code], "task", arn)
        layers = await self._unpack(version.layers, "opt", arn) if version.layers else None
        image_config = config.get("ImageConfigResponse", {}).get("ImageConfig", {})

        def make_spec(environment_id: str, runtime_api: str, stream: str) -> EnvironmentSpec:
            return EnvironmentSpec(
                environment_id=environment_id,
                function_name=config["FunctionName"],
                variables=variables(
                    scope, config, stream, runtime_api, self.endpoint_url, self.credentials
                ),
                runtime=runtime,
                handler=config.get("Handler"),
                code=code,
                layers=layers,
                image=image,
                command=tuple(image_config.get("Command", ())),
                entry_point=tuple(image_config.get("EntryPoint", ())),
                working_directory=image_config.get("WorkingDirectory"),
            )

        return Blueprint(
            account_id=scope[0],
            region=scope[1],
            function_name=config["FunctionName"],
            version=version.number,
            timeout=int(config["Timeout"]),
            memory_mb=int(config["MemorySize"]),
            log_group=config["LoggingConfig"]["LogGroup"],
            make_spec=make_spec,
        )

    def _matching(self, scope: Scope, name: str, version: str | None) -> list[PoolKey]:
        return [
            key
            for key in self._pools
            if key[0] == scope and key[1] == name and version in (None, key[2])
        ]

    def busy(self, scope: Scope, name: str) -> int:
        return sum(self._pools[key].busy for key in self._matching(scope, name, None))

    def warm(self, scope: Scope, name: str) -> dict[str, int]:
        """How many environments each version of the function has, busy or idle."""
        found: dict[str, int] = {}
        for key in self._matching(scope, name, None):
            found[key[2]] = found.get(key[2], 0) + len(list(self._pools[key]))
        return found

    def retire(self, scope: Scope, name: str, version: str | None) -> None:
        self._retired = [pool for pool in self._retired if any(True for _ in pool)]
        for key in self._matching(scope, name, version):
            pool = self._pools.pop(key)
            pool.retire()
            self._retired.append(pool)

    def shutdown(self) -> Deferred[Any]:
        """Stop every environment; fires once all are gone."""
        pools = [*self._pools.values(), *self._retired]
        self._pools.clear()
        self._retired.clear()
        return DeferredList([pool.shutdown() for pool in pools], consumeErrors=True)
