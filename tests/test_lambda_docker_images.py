"""The Docker executor's images: one that cannot be had is reported at once, with the fix."""

from __future__ import annotations

import time
from typing import Any

import docker.errors
from twisted.internet.testing import MemoryReactor
from twisted.python.threadpool import ThreadPool
from twisted.trial.unittest import SynchronousTestCase

from awsemu.lambda_.executors import docker as executors
from awsemu.lambda_.executors.docker import DockerExecutor, ImageUnavailable


class Images:
    """A Docker SDK ``client.images`` with only ``present`` images, whose pulls fail."""

    def __init__(self, present: set[str]) -> None:
        self.present = present
        self.pulls: list[str] = []

    def get(self, image: str) -> object:
        if image not in self.present:
            raise docker.errors.ImageNotFound(f"No such image: {image}")
        return object()

    def pull(self, image: str) -> object:
        self.pulls.append(image)
        raise docker.errors.APIError("500 Server Error", explanation="no such host")


class Client:
    def __init__(self, images: Images) -> None:
        self.images = images


def executor(images: Images, overrides: dict[str, str] | None = None) -> DockerExecutor:
    client: Any = Client(images)
    return DockerExecutor(
        MemoryReactor(),  # type: ignore[arg-type]
        ThreadPool(),
        ThreadPool(),
        client,
        overrides or {},
    )


class ImageTests(SynchronousTestCase):
    def test_present(self) -> None:
        """An image the engine has is used as it is: nothing is pulled."""
        images = Images({"public.ecr.aws/lambda/python:3.12"})
        executor(images)._have_image("public.ecr.aws/lambda/python:3.12")
        self.assertEqual(images.pulls, [])

    def test_unavailable(self) -> None:
        """
        An image neither present nor pullable is reported naming it and the
        fix; retries within ``PULL_RETRY`` are answered without another pull.
        """
        images = Images(set())
        runner = executor(images)
        now = [1000.0]
        self.patch(time, "monotonic", lambda: now[0])
        e = self.assertRaises(ImageUnavailable, runner._have_image, "my/python:3.12")
        self.assertEqual(
            str(e),
            "the image my/python:3.12 is not on this Docker engine and cannot be pulled"
            " (no such host): pull or build it, or run another image with"
            " --lambda-image RUNTIME=IMAGE",
        )
        now[0] += executors.PULL_RETRY - 1
        self.assertRaises(ImageUnavailable, runner._have_image, "my/python:3.12")
        self.assertEqual(images.pulls, ["my/python:3.12"])
        now[0] += 2
        self.assertRaises(ImageUnavailable, runner._have_image, "my/python:3.12")
        self.assertEqual(images.pulls, ["my/python:3.12"] * 2)
