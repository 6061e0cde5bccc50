"""
Smoke tests of awsemu's Lambda image (``ci/lambda-image.sh``) in a real
Docker engine: a container of it must serve an invocation from a Runtime
API on 127.0.0.1, as the Lambda service will run it. They skip without an
engine or the image, unless ``AWSEMU_REQUIRE_DOCKER`` is set (CI).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from twisted.internet import reactor
from twisted.internet.threads import deferToThread
from twisted.logger import Logger
from twisted.trial.unittest import TestCase

from tests.lambda_image_support import (
    FUNCTION_ARN,
    Invocation,
    RuntimeServer,
    create_container,
    docker_client,
    write_handler,
)

# Reports what the runtime saw, so the test checks the image's layout and
# that the Runtime API's headers reached the handler's context.
HANDLER = """\
import os
import sys


def handle(event, context):
    return {
        "event": event,
        "request_id": context.aws_request_id,
        "function_arn": context.invoked_function_arn,
        "time_left": context.get_remaining_time_in_millis() > 0,
        "python": "%d.%d" % sys.version_info[:2],
        "cwd": os.getcwd(),
        "task_root": os.environ["LAMBDA_TASK_ROOT"],
        "execution_env": os.environ["AWS_EXECUTION_ENV"],
    }
"""

log = Logger()


class LambdaImageTests(TestCase):
    async def _container(self, environment: dict[str, str]) -> Any:
        """A created container of the image running L{HANDLER}, removed when the test ends."""
        client = await docker_client()
        self.addCleanup(deferToThread, client.close)
        task_root = write_handler(Path(self.mktemp()), HANDLER)
        container = await deferToThread(create_container, client, task_root, environment)
        self.addCleanup(deferToThread, container.remove, force=True)
        return container

    async def test_invocation(self) -> None:
        """
        The handler's result reaches ``/response``; the cold start (container
        start to the first ``/next``) is logged.
        """
        server = RuntimeServer.listen()
        self.addCleanup(server.close)
        container = await self._container({"AWS_LAMBDA_RUNTIME_API": server.address})
        invocation = Invocation(b'{"ping": 1}')
        outcome = server.api.invoke(invocation)
        started = reactor.seconds()
        await deferToThread(container.start)
        try:
            body = await outcome.addTimeout(60, reactor)
        except Exception as error:
            logs = await deferToThread(container.logs)
            self.fail(f"{error!r}; the container's output:\n{logs.decode(errors='replace')}")
        cold_start = await server.api.first_next - started
        log.info(
            "Lambda image cold start (container start to first /next): {s:.3f} s", s=cold_start
        )
        self.assertEqual(
            json.loads(body),
            {
                "event": {"ping": 1},
                "request_id": invocation.request_id,
                "function_arn": FUNCTION_ARN,
                "time_left": True,
                "python": "3.11",
                "cwd": "/var/task",
                "task_root": "/var/task",
                "execution_env": "AWS_Lambda_python3.11",
            },
        )

    async def test_no_runtime_api(self) -> None:
        """
        Without ``AWS_LAMBDA_RUNTIME_API``, where AWS's image would run its
        emulator, the container exits with a reason instead.
        """
        container = await self._container({})
        await deferToThread(container.start)
        status = await deferToThread(container.wait, timeout=60)
        logs = await deferToThread(container.logs)
        self.assertNotEqual(status["StatusCode"], 0)
        self.assertIn(b"AWS_LAMBDA_RUNTIME_API is not set", logs)
