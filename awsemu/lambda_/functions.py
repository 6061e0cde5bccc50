"""
What Lambda keeps: functions (their ``$LATEST``, published versions,
aliases, policies, tags and settings) and layers, per account and region,
plus the code packages they name by content hash.

Each version's configuration is kept as the ``FunctionConfiguration``
document AWS returns, since that is what nearly every operation answers
with; the store adds only what AWS does not show (the package hash).
Under ``--data-dir`` the metadata is one JSON document rewritten on each
change (functions are few and small) and each package a file named by its
hash, so a restart finds everything.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import attrs
from twisted.python.filepath import FilePath

from awsemu.lambda_ import errors
from awsemu.lambda_.zips import sha256_hex
from awsemu.state.datadir import write_private
from awsemu.state.jsonfile import JsonFile

Document = dict[str, Any]
Scope = tuple[str, str]
"""An account id and a region: everything Lambda keeps lives in one."""

LATEST = "$LATEST"


def function_arn(scope: Scope, name: str, qualifier: str | None = None) -> str:
    account_id, region = scope
    arn = f"arn:aws:lambda:{region}:{account_id}:function:{name}"
    return arn if qualifier is None else f"{arn}:{qualifier}"


def layer_arn(scope: Scope, name: str) -> str:
    account_id, region = scope
    return f"arn:aws:lambda:{region}:{account_id}:layer:{name}"


@attrs.define
class Version:
    """
    One version of a function: ``$LATEST`` or a published number.
    ``code`` is the hex SHA-256 of its zip, None for an image function;
    ``layers`` are its layers' packages, in order.
    """

    config: Document
    code: str | None = None
    layers: list[str] = attrs.field(factory=list)

    @property
    def number(self) -> str:
        return str(self.config["Version"])

    @property
    def revision(self) -> str:
        return str(self.config["RevisionId"])

    @property
    def content_revision(self) -> str:
        """
        Changes with the version's code and configuration only, not with its
        policy (whose changes give it a new ``RevisionId`` too).
        """
        return str(self.config.get("_ContentRevision", self.config["RevisionId"]))


@attrs.define
class Function:
    """
    A function and everything attached to it. ``policies`` and
    ``event_configs`` are keyed by qualifier, ``""`` for the unqualified
    function. ``published_from`` is the ``$LATEST`` content revision the newest
    version was published from, so that publishing twice without a change
    gives the same version, as AWS does.
    """

    name: str
    latest: Version
    versions: dict[str, Version] = attrs.field(factory=dict)
    aliases: dict[str, Document] = attrs.field(factory=dict)
    policies: dict[str, list[Document]] = attrs.field(factory=dict)
    tags: dict[str, str] = attrs.field(factory=dict)
    reserved_concurrency: int | None = None
    event_configs: dict[str, Document] = attrs.field(factory=dict)
    url_configs: dict[str, Document] = attrs.field(factory=dict)
    code_signing_config: str | None = None
    provisioned: dict[str, Document] = attrs.field(factory=dict)
    recursive_loop: str = "Terminate"
    """What Lambda does on a detected recursive loop (``PutFunctionRecursionConfig``)."""
    """Provisioned concurrency by qualifier (a version or an alias)."""
    next_version: int = 1
    published_from: str | None = None

    def version(self, qualifier: str | None) -> Version | None:
        """The version a qualifier names: ``$LATEST``, a number or an alias; None if none."""
        if qualifier is None or qualifier == LATEST:
            return self.latest
        found = self.versions.get(qualifier)
        if found is not None:
            return found
        alias = self.aliases.get(qualifier)
        return None if alias is None else self.versions.get(alias["FunctionVersion"], self.latest)

    def all_versions(self) -> Iterator[Version]:
        yield self.latest
        yield from self.versions.values()

    @classmethod
    def from_document(cls, document: Document) -> Function:
        document = dict(document)
        document["latest"] = Version(**document["latest"])
        document["versions"] = {k: Version(**v) for k, v in document["versions"].items()}
        return cls(**document)


@attrs.define
class Packages:
    """
    Code packages by hex SHA-256: in memory, or one file each under
    ``directory``. Unreferenced packages are dropped by ``keep_only``.
    """

    directory: FilePath[str] | None = None
    _memory: dict[str, bytes] = attrs.field(factory=dict)

    def put(self, data: bytes) -> str:
        key = sha256_hex(data)
        if self.directory is None:
            self._memory[key] = data
        else:
            path = self.directory.child(key)
            if not path.exists():
                if not self.directory.isdir():
                    self.directory.makedirs(ignoreExistingDirectory=True)
                write_private(path, data)
        return key

    def get(self, key: str) -> bytes:
        if self.directory is None:
            return self._memory[key]
        return self.directory.child(key).getContent()

    def keep_only(self, keys: set[str]) -> None:
        if self.directory is None:
            for key in set(self._memory) - keys:
                del self._memory[key]
        elif self.directory.isdir():
            for path in self.directory.children():
                if path.basename() not in keys:
                    path.remove()


@attrs.define
class FunctionStore:
    """
    Every function and layer by scope. ``file`` is where the metadata is
    saved (None: memory only). Providers look things up here and call
    ``save`` after each change.
    """

    packages: Packages
    file: JsonFile | None = None
    functions: dict[Scope, dict[str, Function]] = attrs.field(factory=dict)
    layers: dict[Scope, dict[str, list[Document]]] = attrs.field(factory=dict)
    code_signing_configs: dict[Scope, dict[str, Document]] = attrs.field(factory=dict)
    """Code signing configurations by id (``csc-...``)."""
    mappings: dict[Scope, dict[str, Document]] = attrs.field(factory=dict)
    """Event source mappings by UUID, as ``EventSourceMappingConfiguration`` documents."""

    @classmethod
    def open(cls, directory: FilePath[str] | None) -> FunctionStore:
        """The store kept under ``directory`` (created when first saved), or a memory one."""
        if directory is None:
            return cls(Packages())
        store = cls(Packages(directory.child("code")), JsonFile(directory.child("state.json")))
        document = store.file.load() if store.file is not None else None
        for entry in document or ():
            scope = (entry["account_id"], entry["region"])
            store.functions[scope] = {
                name: Function.from_document(f) for name, f in entry["functions"].items()
            }
            store.layers[scope] = entry["layers"]
            store.code_signing_configs[scope] = entry.get("code_signing_configs", {})
            store.mappings[scope] = entry.get("event_source_mappings", {})
        return store

    def save(self) -> None:
        """Write the metadata out and drop packages nothing refers to any more."""
        self.packages.keep_only(set(self._package_keys()))
        if self.file is None:
            return
        scopes = (
            set(self.functions)
            | set(self.layers)
            | set(self.code_signing_configs)
            | set(self.mappings)
        )
        self.file.save(
            [
                {
                    "account_id": account_id,
                    "region": region,
                    "functions": {
                        name: attrs.asdict(function)
                        for name, function in self.functions.get((account_id, region), {}).items()
                    },
                    "layers": self.layers.get((account_id, region), {}),
                    "code_signing_configs": self.code_signing_configs.get((account_id, region), {}),
                    "event_source_mappings": self.mappings.get((account_id, region), {}),
                }
                for account_id, region in sorted(scopes)
            ]
        )

    def _package_keys(self) -> Iterator[str]:
        for functions in self.functions.values():
            for function in functions.values():
                for version in function.all_versions():
                    if version.code is not None:
                        yield version.code
                    yield from version.layers
        for layers in self.layers.values():
            for versions in layers.values():
                for layer in versions:
                    yield layer["_package"]

    def clear(self) -> None:
        """Forget every function and layer, with their code."""
        self.functions.clear()
        self.layers.clear()
        self.save()

    def inventory(self) -> list[tuple[str, str, str, str]]:
        """Every function and layer."""
        found = [
            (account, region, "functions", name)
            for (account, region), functions in self.functions.items()
            for name in functions
        ]
        found += [
            (account, region, "layers", name)
            for (account, region), layers in self.layers.items()
            for name in layers
        ]
        return found

    def in_scope(self, scope: Scope) -> dict[str, Function]:
        return self.functions.setdefault(scope, {})

    def function(self, scope: Scope, name: str) -> Function:
        """The function ``name``; AWS's not-found error (with the function's ARN) if none."""
        found = self.functions.get(scope, {}).get(name)
        if found is None:
            raise errors.function_not_found(function_arn(scope, name))
        return found

    def find_url(self, url_id: str) -> tuple[Scope, Function, str] | None:
        """The function (and qualifier) a function URL id belongs to, if any."""
        for scope, functions in self.functions.items():
            for function in functions.values():
                for qualifier, settings in function.url_configs.items():
                    if settings["_UrlId"] == url_id:
                        return scope, function, qualifier
        return None

    def layer_versions(self, scope: Scope, name: str) -> list[Document]:
        return self.layers.setdefault(scope, {}).setdefault(name, [])
