"""
What Lambda's responses say about change, through boto3 against a real
daemon: ``RevisionId`` new exactly when AWS gives a new one, states and
update statuses only where AWS reports them, ``PublishVersion``'s
semantics, and list paging.
"""

from __future__ import annotations

import json
from typing import Any

from twisted.trial.unittest import SynchronousTestCase

from awsemu.lambda_.validation import page_cap
from tests.lambda_support import LambdaTestCase, zipped
from tests.test_lambda_api import ErrorsMixin


class RevisionTests(ErrorsMixin, LambdaTestCase):
    def revision(self, name: str, qualifier: str = "$LATEST") -> str:
        found: str = self.client.get_function_configuration(FunctionName=name, Qualifier=qualifier)[
            "RevisionId"
        ]
        return found

    def test_changes_and_reads(self) -> None:
        name = self.create()
        created = self.revision(name)
        self.client.get_function(FunctionName=name)
        self.client.list_versions_by_function(FunctionName=name)
        self.client.list_functions()
        self.assertEqual(self.revision(name), created)
        updated = self.client.update_function_configuration(FunctionName=name, Timeout=5)
        self.assertNotIn(updated["RevisionId"], (created,))
        self.assertEqual(self.revision(name), updated["RevisionId"])
        self.client.update_function_code(
            FunctionName=name, ZipFile=zipped({"app.py": "x = 1\n"}), DryRun=True
        )
        self.assertEqual(self.revision(name), updated["RevisionId"])
        code = self.client.update_function_code(
            FunctionName=name, ZipFile=zipped({"app.py": "x = 2\n"})
        )
        self.assertNotEqual(code["RevisionId"], updated["RevisionId"])
        self.assertEqual(self.revision(name), code["RevisionId"])

    def test_publish(self) -> None:
        name = self.create()
        before = self.revision(name)
        published = self.client.publish_version(FunctionName=name)
        self.assertEqual(
            (
                published["Version"],
                published["State"],
                published["StateReason"],
                published["StateReasonCode"],
            ),
            ("1", "Pending", "The function is being created.", "Creating"),
        )
        self.assertNotIn("LastUpdateStatus", published)
        after = self.revision(name)
        self.assertNotIn(after, (before, published["RevisionId"]))
        version = self.client.get_function_configuration(FunctionName=name, Qualifier="1")
        self.assertEqual(
            (version["State"], version["RevisionId"]), ("Active", published["RevisionId"])
        )
        self.assertNotIn("LastUpdateStatus", version)
        # Nothing changed: the same version, and no new revision anywhere.
        again = self.client.publish_version(FunctionName=name)
        self.assertEqual(
            (again["Version"], again["RevisionId"], again["State"]),
            ("1", published["RevisionId"], "Active"),
        )
        self.assertEqual(self.revision(name), after)
        # A policy change gives a new revision but is no change to publish.
        self.client.add_permission(
            FunctionName=name, StatementId="s", Action="lambda:InvokeFunction", Principal="*"
        )
        self.assertNotEqual(self.revision(name), after)
        self.assertEqual(self.client.publish_version(FunctionName=name)["Version"], "1")
        self.client.update_function_configuration(FunctionName=name, Description="two")
        second = self.client.publish_version(FunctionName=name)
        self.assertEqual((second["Version"], second["Description"]), ("2", "two"))

    def test_publish_with_an_other_code_sha(self) -> None:
        name = self.create()
        current = self.client.get_function_configuration(FunctionName=name)["CodeSha256"]
        message = self.assertError(
            self.client.publish_version,
            "InvalidParameterValueException",
            400,
            FunctionName=name,
            CodeSha256="abc",
        )
        self.assertEqual(
            message,
            f"CodeSHA256 (abc) is different from current CodeSHA256 in $LATEST ({current})."
            " Please try again with the CodeSHA256 in $LATEST.",
        )
        self.assertEqual(
            self.client.list_versions_by_function(FunctionName=name)["Versions"][1:], []
        )

    def test_aliases(self) -> None:
        name = self.create()
        self.client.publish_version(FunctionName=name)
        created = self.client.create_alias(FunctionName=name, Name="live", FunctionVersion="1")
        read = self.client.get_alias(FunctionName=name, Name="live")
        self.assertEqual(read["RevisionId"], created["RevisionId"])
        updated = self.client.update_alias(FunctionName=name, Name="live", Description="d")
        self.assertNotEqual(updated["RevisionId"], created["RevisionId"])
        self.assertEqual(
            self.client.get_alias(FunctionName=name, Name="live")["RevisionId"],
            updated["RevisionId"],
        )

    def test_a_policy_change_keeps_warm_environments(self) -> None:
        name = self.create("app.sleep")
        first = self.client.invoke(FunctionName=name, Payload=b'{"seconds": 0}')
        self.client.add_permission(
            FunctionName=name, StatementId="s", Action="lambda:InvokeFunction", Principal="*"
        )
        second = self.client.invoke(FunctionName=name, Payload=b'{"seconds": 0}')
        self.assertEqual(json.load(second["Payload"]), json.load(first["Payload"]))

    def test_update_statuses(self) -> None:
        name = self.create()
        updated = self.client.update_function_configuration(FunctionName=name, Timeout=4)
        self.assertEqual(
            (
                updated["LastUpdateStatus"],
                updated["LastUpdateStatusReason"],
                updated["LastUpdateStatusReasonCode"],
            ),
            ("InProgress", "The function is being created.", "Creating"),
        )
        read = self.client.get_function_configuration(FunctionName=name)
        self.assertEqual((read["State"], read["LastUpdateStatus"]), ("Active", "Successful"))
        for member in ("StateReason", "StateReasonCode", "LastUpdateStatusReason"):
            self.assertNotIn(member, read)


class PagingTests(ErrorsMixin, LambdaTestCase):
    def pages(self, call: Any, member: str, **params: Any) -> list[list[Any]]:
        found, marker = [], None
        while True:
            answer = call(**params, **({"Marker": marker} if marker else {}))
            found.append(answer[member])
            marker = answer.get("NextMarker")
            if marker is None:
                return found

    def test_versions(self) -> None:
        name = self.create()
        for number in range(55):
            self.client.update_function_configuration(FunctionName=name, Description=str(number))
            self.client.publish_version(FunctionName=name)
        # At most 50 a page, whatever MaxItems says (the model's documentation).
        pages = self.pages(
            self.client.list_versions_by_function, "Versions", FunctionName=name, MaxItems=100
        )
        self.assertEqual([len(page) for page in pages], [50, 6])
        self.assertEqual(
            [v["Version"] for page in pages for v in page],
            ["$LATEST", *map(str, range(1, 56))],
        )
        pages = self.pages(
            self.client.list_versions_by_function, "Versions", FunctionName=name, MaxItems=20
        )
        self.assertEqual([len(page) for page in pages], [20, 20, 16])

    def test_aliases_and_functions(self) -> None:
        name = self.create()
        for alias in ("a", "b", "c"):
            self.client.create_alias(FunctionName=name, Name=alias, FunctionVersion="$LATEST")
        pages = self.pages(self.client.list_aliases, "Aliases", FunctionName=name, MaxItems=2)
        self.assertEqual([[a["Name"] for a in page] for page in pages], [["a", "b"], ["c"]])
        message = self.assertError(
            self.client.list_functions, "ValidationException", 400, MaxItems=10001
        )
        self.assertEqual(
            message,
            "1 validation error detected: Value '10001' at 'maxItems' failed to satisfy"
            " constraint: Member must have value less than or equal to 10000",
        )

    def test_event_invoke_configs(self) -> None:
        name = self.create()
        self.client.publish_version(FunctionName=name)
        for qualifier in ("$LATEST", "1"):
            self.client.put_function_event_invoke_config(
                FunctionName=name, Qualifier=qualifier, MaximumRetryAttempts=1
            )
        pages = self.pages(
            self.client.list_function_event_invoke_configs,
            "FunctionEventInvokeConfigs",
            FunctionName=name,
            MaxItems=1,
        )
        self.assertEqual(
            [[c["FunctionArn"].rsplit(":", 1)[1] for c in page] for page in pages],
            [["$LATEST"], ["1"]],
        )


class PageCapTests(SynchronousTestCase):
    def test_read_from_the_documentation(self) -> None:
        self.assertEqual(
            (
                page_cap("ListFunctions"),
                page_cap("ListEventSourceMappings"),
                page_cap("ListAliases"),
                page_cap("GetFunction"),
            ),
            (50, 100, None, None),
        )
