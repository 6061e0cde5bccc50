"""
Every distribution awsemu's code imports is one that setup.cfg declares:
the daemon's imports in ``install_requires``, the tests' there or in the
``test`` extra. A fresh virtual environment (``.ci/run``) shows an
undeclared import only where a test happens to reach it; this reads every
import, lazy ones included.
"""

from __future__ import annotations

import ast
import configparser
import re
import sys
from collections.abc import Iterable
from importlib.metadata import packages_distributions
from pathlib import Path

from twisted.trial.unittest import SynchronousTestCase

ROOT = Path(__file__).resolve().parent.parent
FIRST_PARTY = frozenset({"awsemu", "tests"})


def normalized(name: str) -> str:
    """A distribution name as PEP 503 compares them."""
    return re.sub(r"[-_.]+", "-", name).lower()


def declared(value: str) -> frozenset[str]:
    """The distribution names of a setup.cfg requirement list."""
    names = (re.match(r"[A-Za-z0-9._-]+", line.strip()) for line in value.splitlines())
    return frozenset(normalized(match.group()) for match in names if match)


def optional(tree: ast.AST) -> set[int]:
    """
    The ids of the import statements in ``tree`` that a ``try`` guards with
    ``except ImportError``: optional imports (``awsemu.testing`` works
    without pytest), which no requirement needs to declare.
    """
    guarded: set[int] = set()
    for node in ast.walk(tree):
        if not isinstance(node, ast.Try):
            continue
        caught = {
            name.id
            for handler in node.handlers
            for name in ast.walk(handler.type or ast.Name("BaseException"))
            if isinstance(name, ast.Name)
        }
        if caught & {"ImportError", "ModuleNotFoundError"}:
            guarded.update(id(statement) for statement in node.body)
    return guarded


def imported(paths: Iterable[Path]) -> dict[str, str]:
    """
    Each top-level module the files at ``paths`` import (optional imports
    aside), and one file that does.
    """
    found: dict[str, str] = {}
    for path in paths:
        tree = ast.parse(path.read_text(), str(path))
        guarded = optional(tree)
        for node in ast.walk(tree):
            if id(node) in guarded:
                continue
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            for name in names:
                found.setdefault(name.partition(".")[0], str(path.relative_to(ROOT)))
    return {
        name: where
        for name, where in found.items()
        if name not in sys.stdlib_module_names and name not in FIRST_PARTY
    }


class RequirementsTests(SynchronousTestCase):
    def setUp(self) -> None:
        config = configparser.ConfigParser()
        config.read(ROOT / "setup.cfg")
        self.runtime = declared(config["options"]["install_requires"])
        self.test = self.runtime | declared(config["options.extras_require"]["test"])
        self.distributions = packages_distributions()

    def undeclared(self, modules: dict[str, str], allowed: frozenset[str]) -> list[str]:
        problems = []
        for module, where in sorted(modules.items()):
            providers = {normalized(name) for name in self.distributions.get(module, [])}
            if not providers & allowed:
                problems.append(f"{module} (imported by {where}, from {sorted(providers)})")
        return problems

    def test_declared(self) -> None:
        """The parser sees the requirements (comments between them are skipped)."""
        self.assertIn("botocore", self.runtime)
        self.assertIn("pyyaml", self.runtime)
        self.assertIn("hypothesis", self.test - self.runtime)

    def test_daemon(self) -> None:
        """What awsemu and its twistd plugin import is installed with it."""
        files = [*ROOT.joinpath("awsemu").rglob("*.py"), *ROOT.glob("twisted/plugins/*.py")]
        modules = imported(files)
        self.assertIn("yaml", modules)
        self.assertEqual(self.undeclared(modules, self.runtime), [])

    def test_optional(self) -> None:
        """An import guarded by ``except ImportError`` is optional; others are not."""
        tree = ast.parse(
            "try:\n    import pytest\nexcept ImportError:\n    pytest = None\n"
            "try:\n    import flask\nexcept ValueError:\n    pass\n"
        )
        self.assertEqual(
            [type(node).__name__ for node in ast.walk(tree) if id(node) in optional(tree)],
            ["Import"],
        )

    def test_tests(self) -> None:
        """What the tests import is installed with ``.[test]``."""
        modules = imported(ROOT.joinpath("tests").rglob("*.py"))
        self.assertIn("hypothesis", modules)
        self.assertEqual(self.undeclared(modules, self.test), [])
