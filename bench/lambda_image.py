"""
Cold starts of awsemu's Lambda image (ci/lambda-image.sh) in Docker: the
times the Lambda service pays for a new container, to size its warm pool.

    python bench/lambda_image.py [--runs 10]

Per run, a fresh container with host networking against a stub Runtime API
on 127.0.0.1: create; start until the runtime's first GET /next (the cold
start); the first invocation's response; remove (forced, as on shutdown).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from pathlib import Path
from typing import Any

from twisted.internet import reactor, task
from twisted.internet.defer import Deferred
from twisted.internet.threads import deferToThread

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.lambda_image_support import (  # noqa: E402
    IMAGE,
    Invocation,
    RuntimeServer,
    create_container,
    docker_client,
    write_handler,
)

STAGES = ["create", "start to first /next", "first response", "remove"]


async def one_run(client: Any, task_root: Path) -> list[float]:
    """The seconds each of L{STAGES} took in one container's life."""
    server = RuntimeServer.listen()
    try:
        began = reactor.seconds()
        container = await deferToThread(
            create_container, client, task_root, {"AWS_LAMBDA_RUNTIME_API": server.address}
        )
        try:
            created = reactor.seconds()
            outcome = server.api.invoke(Invocation(b"{}"))
            await deferToThread(container.start)
            await outcome.addTimeout(60, reactor)
            answered = reactor.seconds()
            first_next = await server.api.first_next
        finally:
            removing = reactor.seconds()
            await deferToThread(container.remove, force=True)
        removed = reactor.seconds()
    finally:
        await server.close()
    return [created - began, first_next - created, answered - created, removed - removing]


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[1])
    parser.add_argument("--runs", type=int, default=10)
    arguments = parser.parse_args()
    client = await docker_client()
    try:
        with tempfile.TemporaryDirectory() as directory:
            task_root = write_handler(
                Path(directory) / "task", "def handle(event, context):\n    return event\n"
            )
            runs = [await one_run(client, task_root) for _ in range(arguments.runs)]
    finally:
        client.close()
    print(f"image: {IMAGE}; runs: {arguments.runs}; seconds: median (min–max)")
    for stage, times in zip(STAGES, zip(*runs, strict=True), strict=True):
        print(f"  {stage:22} {statistics.median(times):.3f} ({min(times):.3f}–{max(times):.3f})")


if __name__ == "__main__":
    task.react(lambda _: Deferred.fromCoroutine(main()))
