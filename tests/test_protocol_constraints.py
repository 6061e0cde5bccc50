"""The shared request validator's pieces, on botocore's Lambda and Logs models."""

from __future__ import annotations

from typing import Any

from twisted.trial.unittest import SynchronousTestCase

from awsemu.logs import codec
from awsemu.protocol import constraints
from awsemu.protocol.model import load_service_model


def _shape(service: str, name: str) -> Any:
    return load_service_model(service).shape_for(name)


class ConstraintTests(SynchronousTestCase):
    def test_values_as_java_prints_them(self) -> None:
        self.assertEqual(constraints.shown({"k": [True, 2], "v": "x"}), "{k=[true, 2], v=x}")

    def test_every_broken_constraint_in_order(self) -> None:
        """A too-long name with a bad character breaks its pattern, then its maximum."""
        shape = _shape("lambda", "FunctionName")
        found = constraints.broken(shape, "a b" * 100)
        self.assertEqual([b.kind for b in found], ["pattern", "max"])
        self.assertEqual(found[1].text, "Member must have length less than or equal to 140")

    def test_java_classes(self) -> None:
        """Tag keys' pattern (``\\p{L}``...) is checked only when asked to read Java's classes."""
        shape = _shape("lambda", "TagKey")
        self.assertEqual([b.kind for b in constraints.broken(shape, "a!")], ["pattern"])
        self.assertEqual(constraints.broken(shape, "a!", java_classes=False), [])

    def test_detected(self) -> None:
        self.assertEqual(constraints.detected(["a"]), "1 validation error detected: a")
        self.assertEqual(constraints.detected(["a", "b"]), "2 validation errors detected: a; b")
        self.assertEqual(
            constraints.failed("x.y", "v", sensitive=True),
            "Value at 'x.y' failed to satisfy constraint:",
        )

    def test_logs_quotes_maps_as_java_does(self) -> None:
        """
        Logs reports the first broken constraint of each member, and quotes a
        map ``{k=v}`` as AWS's (Java) validator prints it.
        """
        shape = load_service_model("logs").operation_model("TagLogGroup").input_shape
        tags = {f"k{n}": "v" for n in range(51)}
        found = list(codec._structure_problems("", shape, {"logGroupName": "a b", "tags": tags}))
        self.assertEqual(
            found,
            [
                "Value 'a b' at 'logGroupName' failed to satisfy constraint: Member must satisfy"
                r" regular expression pattern: [\.\-_/#A-Za-z0-9]+",
                f"Value '{{{', '.join(f'k{n}=v' for n in range(51))}}}' at 'tags' failed to"
                " satisfy constraint: Member must have length less than or equal to 50",
            ],
        )
