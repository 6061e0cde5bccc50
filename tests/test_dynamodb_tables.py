"""
Tests for L{awsemu.dynamodb.tags} and L{awsemu.dynamodb.tables}: tag
rules and the table store on their own, and tagging and point-in-time
recovery end to end through a real daemon and DynamoDB Local with boto3.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from botocore.exceptions import ClientError
from twisted.python.filepath import FilePath
from twisted.trial.unittest import SynchronousTestCase

from awsemu.config import Config
from awsemu.dynamodb.service import table_store
from awsemu.dynamodb.tables import Recovery, TableStore
from awsemu.dynamodb.tags import InvalidTags, parse_tags
from awsemu.state.jsonfile import JsonFile
from tests.dynamodb_support import restartable_daemon, shared_daemon

ARN = "arn:aws:dynamodb:eu-west-1:111111111111:table/t"
CREATED = 1700000000.123
LATER = 1700000100.5
REGION = "eu-west-1"


class ParseTagsTests(SynchronousTestCase):
    """L{parse_tags} turns a request's C{Tags} into a mapping, within DynamoDB's limits."""

    def test_parsed(self) -> None:
        """Keys map to values; a later duplicate key wins."""
        tags = [{"Key": "a", "Value": "1"}, {"Key": "b", "Value": ""}, {"Key": "a", "Value": "2"}]
        self.assertEqual(parse_tags(tags), {"a": "2", "b": ""})

    def test_limits(self) -> None:
        """Keys of 1 to 128 characters, values of up to 256, and 50 tags are accepted."""
        tags = [{"Key": "k" * 128, "Value": "v" * 256}, {"Key": "k", "Value": ""}]
        tags += [{"Key": str(n), "Value": ""} for n in range(48)]
        self.assertEqual(len(parse_tags(tags)), 50)

    def test_refused(self) -> None:
        """Tags beyond the limits, malformed ones and C{aws:} keys are refused."""
        for tags in (
            [{"Key": "", "Value": ""}],
            [{"Key": "k" * 129, "Value": ""}],
            [{"Key": "k", "Value": "v" * 257}],
            [{"Key": "aws:cloudformation:stack-name", "Value": "s"}],
            [{"Key": "AWS:x", "Value": "s"}],
            [{"Key": "k"}],
            [{"Key": 1, "Value": "v"}],
            ["k"],
            [{"Key": str(n), "Value": ""} for n in range(51)],
            None,
            {"Key": "k", "Value": "v"},
        ):
            self.assertRaises(InvalidTags, parse_tags, tags)


class TableStoreTests(SynchronousTestCase):
    """
    L{TableStore} keeps each table's tags and point-in-time recovery, and
    saves every change when it has a file.
    """

    def setUp(self) -> None:
        self.file = JsonFile(FilePath(self.mktemp()).child("dynamodb").child("tables.json"))
        self.store = TableStore.open(self.file)

    def test_tag_untag(self) -> None:
        """Tagging adds or replaces values; untagging removes keys, ignoring absent ones."""
        self.store.tag(ARN, CREATED, {"a": "1", "b": "2"})
        self.store.tag(ARN, CREATED, {"b": "3", "c": "4"})
        self.assertEqual(self.store.tags(ARN, CREATED), {"a": "1", "b": "3", "c": "4"})
        self.store.untag(ARN, CREATED, ["a", "absent"])
        self.assertEqual(self.store.tags(ARN, CREATED), {"b": "3", "c": "4"})
        self.assertEqual(self.store.tags(ARN + "2", CREATED), {})

    def test_other_table(self) -> None:
        """
        Tags belong to the table created when the one they were given to
        was: a later table of the same ARN has none, and changing its tags
        replaces the earlier table's.
        """
        self.store.tag(ARN, CREATED, {"a": "1"})
        self.assertEqual(self.store.tags(ARN, LATER), {})
        self.store.tag(ARN, LATER, {"b": "2"})
        self.assertEqual(self.store.tables, {ARN: {"CreationDateTime": LATER, "Tags": {"b": "2"}}})
        self.store.untag(ARN, CREATED, ["a"])
        self.assertEqual(self.store.tables, {})

    def test_copy(self) -> None:
        """The tags returned are a copy: changing them changes nothing stored."""
        self.store.tag(ARN, CREATED, {"a": "1"})
        self.store.tags(ARN, CREATED)["b"] = "2"
        self.assertEqual(self.store.tags(ARN, CREATED), {"a": "1"})

    def test_too_many(self) -> None:
        """Tags that would take a table over 50 are refused, and none is added."""
        self.store.tag(ARN, CREATED, {str(n): "" for n in range(49)})
        self.store.tag(ARN, CREATED, {"0": "replaced", "last": ""})
        self.assertRaises(InvalidTags, self.store.tag, ARN, CREATED, {"one": "", "too many": ""})
        self.assertEqual(len(self.store.tags(ARN, CREATED)), 50)
        self.assertEqual(self.store.tags(ARN, CREATED)["0"], "replaced")

    def test_forget(self) -> None:
        """A forgotten table has no tags left, and no entry: untagging everything is the same."""
        self.store.tag(ARN, CREATED, {"a": "1"})
        self.store.tag(ARN + "2", CREATED, {"a": "1"})
        self.store.forget(ARN)
        self.store.untag(ARN + "2", CREATED, ["a"])
        self.store.forget(ARN + "3")
        self.assertEqual(self.store.tables, {})
        self.assertEqual(self.file.load(), {"tables": {}})

    def test_saved(self) -> None:
        """Every change is saved; a store opened on the file has it."""
        self.assertIsNone(self.file.load())
        self.store.tag(ARN, CREATED, {"a": "1"})
        self.assertEqual(TableStore.open(self.file).tags(ARN, CREATED), {"a": "1"})
        self.store.untag(ARN, CREATED, ["a"])
        self.assertEqual(TableStore.open(self.file).tables, {})

    def test_unchanged_not_saved(self) -> None:
        """A request that changes nothing does not rewrite the file."""
        self.store.untag(ARN, CREATED, ["a"])
        self.store.tag(ARN, CREATED, {})
        self.assertFalse(self.file.path.exists())
        self.store.tag(ARN, CREATED, {"a": "1"})
        self.file.path.remove()
        self.store.tag(ARN, CREATED, {"a": "1"})
        self.assertFalse(self.file.path.exists())

    def test_memory(self) -> None:
        """Without a file, tags are kept in memory only."""
        store = TableStore()
        store.tag(ARN, CREATED, {"a": "1"})
        store.save()
        self.assertEqual(store.tags(ARN, CREATED), {"a": "1"})

    def test_recovery(self) -> None:
        """
        Point-in-time recovery is kept next to the tags, for its table only;
        a record goes once it holds neither.
        """
        on = Recovery(Since=LATER, Days=7)
        self.assertIsNone(self.store.recovery(ARN, CREATED))
        self.store.recover(ARN, CREATED, on)
        self.store.tag(ARN, CREATED, {"a": "1"})
        self.assertEqual(TableStore.open(self.file).recovery(ARN, CREATED), on)
        self.assertIsNone(self.store.recovery(ARN, LATER))
        self.store.untag(ARN, CREATED, ["a"])
        self.assertEqual(
            self.file.load(),
            {"tables": {ARN: {"CreationDateTime": CREATED, "Tags": {}, "Recovery": on}}},
        )
        self.store.recover(ARN, CREATED, None)
        self.assertEqual(self.store.tables, {})
        self.assertEqual(self.file.load(), {"tables": {}})

    def test_earlier_file(self) -> None:
        """A data directory's C{tags.json}, from before it held more, becomes C{tables.json}."""
        data = FilePath(self.mktemp())
        earlier = JsonFile(data.child("dynamodb").child("tags.json"))
        earlier.save({"tables": {ARN: {"CreationDateTime": CREATED, "Tags": {"a": "1"}}}})
        store = table_store(Config(data_dir=data))
        self.assertEqual(store.tags(ARN, CREATED), {"a": "1"})
        self.assertFalse(earlier.path.exists())
        self.assertEqual(store.file, JsonFile(data.child("dynamodb").child("tables.json")))


TABLE: dict[str, Any] = {
    "KeySchema": [{"AttributeName": "id", "KeyType": "HASH"}],
    "AttributeDefinitions": [{"AttributeName": "id", "AttributeType": "S"}],
    "BillingMode": "PAY_PER_REQUEST",
}


def create(client: Any, name: str, **more: Any) -> str:
    """Create table ``name``; return its ARN."""
    arn: str = client.create_table(TableName=name, **TABLE, **more)["TableDescription"]["TableArn"]
    return arn


def tags_of(client: Any, arn: str) -> list[dict[str, str]]:
    tags: list[dict[str, str]] = client.list_tags_of_resource(ResourceArn=arn)["Tags"]
    return tags


def error_of(raised: Any) -> tuple[str, str]:
    error = raised.exception.response["Error"]
    return error["Code"], error["Message"]


class TaggingTests(SynchronousTestCase):
    """Tagging DynamoDB tables through the daemon with boto3, as Terraform does."""

    def setUp(self) -> None:
        self.daemon = shared_daemon()

    def client(self, account: str, region: str = REGION) -> Any:
        return self.daemon.client("dynamodb", account, region)

    def test_tag_list_untag(self) -> None:
        """Tags are added, replaced, listed by key and removed."""
        client = self.client("666666666661")
        arn = create(client, "Tagged")
        self.assertEqual(tags_of(client, arn), [])
        client.tag_resource(
            ResourceArn=arn, Tags=[{"Key": "team", "Value": "a"}, {"Key": "env", "Value": "dev"}]
        )
        client.tag_resource(ResourceArn=arn, Tags=[{"Key": "team", "Value": "b"}])
        self.assertEqual(
            tags_of(client, arn),
            [{"Key": "env", "Value": "dev"}, {"Key": "team", "Value": "b"}],
        )
        client.untag_resource(ResourceArn=arn, TagKeys=["team", "absent"])
        self.assertEqual(tags_of(client, arn), [{"Key": "env", "Value": "dev"}])

    def test_create_delete_recreate(self) -> None:
        """
        C{CreateTable}'s tags are kept; a deleted table's tags go with it, so
        a new table of the same name starts with none.
        """
        client = self.client("666666666662")
        arn = create(client, "Recreated", Tags=[{"Key": "owner", "Value": "me"}])
        self.assertEqual(tags_of(client, arn), [{"Key": "owner", "Value": "me"}])
        client.delete_table(TableName="Recreated")
        self.assertEqual(create(client, "Recreated"), arn)
        self.assertEqual(tags_of(client, arn), [])

    def test_refused(self) -> None:
        """
        A missing table, an index, another account's table and reserved or
        too many tags are refused as DynamoDB refuses them.
        """
        client = self.client("666666666663")
        arn = create(client, "Refusing")
        missing = arn + "-missing"
        with self.assertRaises(ClientError) as raised:
            client.tag_resource(ResourceArn=missing, Tags=[{"Key": "k", "Value": "v"}])
        self.assertEqual(
            error_of(raised),
            (
                "ResourceNotFoundException",
                f"Requested resource not found: ResourceArn: {missing} not found",
            ),
        )
        with self.assertRaises(ClientError) as raised:
            client.list_tags_of_resource(ResourceArn=arn + "/index/ByName")
        self.assertEqual(error_of(raised)[0], "ValidationException")
        with self.assertRaises(ClientError) as raised:
            client.untag_resource(
                ResourceArn=arn.replace("666666666663", "666666666669"), TagKeys=["k"]
            )
        self.assertEqual(error_of(raised)[0], "AccessDeniedException")
        for tags in (
            [{"Key": "aws:reserved", "Value": "v"}],
            [{"Key": str(n), "Value": ""} for n in range(51)],
        ):
            with self.assertRaises(ClientError) as raised:
                client.tag_resource(ResourceArn=arn, Tags=tags)
            self.assertEqual(error_of(raised)[0], "ValidationException")
        with self.assertRaises(ClientError) as raised:
            create(client, "NotMade", Tags=[{"Key": "aws:reserved", "Value": "v"}])
        self.assertEqual(error_of(raised)[0], "ValidationException")
        self.assertEqual(client.list_tables()["TableNames"], ["Refusing"])
        self.assertEqual(tags_of(client, arn), [])

    def test_isolation(self) -> None:
        """
        Each account and region has its own tables, and so its own tags: a
        table of the same name elsewhere has none of them.
        """
        mine = self.client("666666666664")
        arn = create(mine, "Shared", Tags=[{"Key": "mine", "Value": "yes"}])
        for account, region in (("666666666665", REGION), ("666666666664", "us-west-2")):
            other = self.client(account, region)
            other_arn = create(other, "Shared")
            self.assertEqual(
                other_arn, arn.replace("666666666664", account).replace(REGION, region)
            )
            self.assertEqual(tags_of(other, other_arn), [])
        self.assertEqual(tags_of(mine, arn), [{"Key": "mine", "Value": "yes"}])


class ContinuousBackupsTests(SynchronousTestCase):
    """
    Point-in-time recovery through the daemon with boto3, as Terraform's
    C{aws_dynamodb_table} reads and sets it.
    """

    def setUp(self) -> None:
        self.client = shared_daemon().client("dynamodb", "666666666671", REGION)

    def recovery(self, name: str) -> dict[str, Any]:
        description: dict[str, Any] = self.client.describe_continuous_backups(TableName=name)[
            "ContinuousBackupsDescription"
        ]
        self.assertEqual(description["ContinuousBackupsStatus"], "ENABLED")
        recovery: dict[str, Any] = description["PointInTimeRecoveryDescription"]
        return recovery

    def test_enable_disable(self) -> None:
        """
        A new table's recovery is off; turned on, it says for how long and
        from when; turned off, it is off again. A recreated table starts off.
        """
        create(self.client, "Recovered")
        self.assertEqual(self.recovery("Recovered"), {"PointInTimeRecoveryStatus": "DISABLED"})
        before = datetime.now(UTC).replace(microsecond=0)
        updated = self.client.update_continuous_backups(
            TableName="Recovered",
            PointInTimeRecoverySpecification={
                "PointInTimeRecoveryEnabled": True,
                "RecoveryPeriodInDays": 7,
            },
        )["ContinuousBackupsDescription"]["PointInTimeRecoveryDescription"]
        self.assertEqual(updated["PointInTimeRecoveryStatus"], "ENABLED")
        self.assertEqual(updated["RecoveryPeriodInDays"], 7)
        self.assertGreaterEqual(updated["EarliestRestorableDateTime"], before)
        self.assertEqual(self.recovery("Recovered"), updated)
        self.client.update_continuous_backups(
            TableName="Recovered",
            PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True},
        )
        self.assertEqual(self.recovery("Recovered")["RecoveryPeriodInDays"], 35)
        self.client.update_continuous_backups(
            TableName="Recovered",
            PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": False},
        )
        self.assertEqual(self.recovery("Recovered"), {"PointInTimeRecoveryStatus": "DISABLED"})
        self.client.update_continuous_backups(
            TableName="Recovered",
            PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True},
        )
        self.client.delete_table(TableName="Recovered")
        create(self.client, "Recovered")
        self.assertEqual(self.recovery("Recovered"), {"PointInTimeRecoveryStatus": "DISABLED"})

    def test_refused(self) -> None:
        """A missing table is C{TableNotFoundException}; a bad period, C{ValidationException}."""
        with self.assertRaises(ClientError) as raised:
            self.client.describe_continuous_backups(TableName="Absent")
        self.assertEqual(error_of(raised), ("TableNotFoundException", "Table not found: Absent"))
        with self.assertRaises(ClientError) as raised:
            self.client.update_continuous_backups(
                TableName="Absent",
                PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True},
            )
        self.assertEqual(error_of(raised)[0], "TableNotFoundException")
        create(self.client, "Bounded")
        with self.assertRaises(ClientError) as raised:
            self.client.update_continuous_backups(
                TableName="Bounded",
                PointInTimeRecoverySpecification={
                    "PointInTimeRecoveryEnabled": True,
                    "RecoveryPeriodInDays": 36,
                },
            )
        self.assertEqual(error_of(raised)[0], "ValidationException")
        self.assertEqual(self.recovery("Bounded"), {"PointInTimeRecoveryStatus": "DISABLED"})


class PersistenceTests(SynchronousTestCase):
    """
    With a data directory, tags, point-in-time recovery and the other
    settings kept here outlive the daemon, like the tables they belong to.
    """

    def test_restart(self) -> None:
        data = Path(self.mktemp()).absolute()
        start = restartable_daemon(self, data)

        first = start()
        client = first.client("dynamodb", "666666666666", REGION)
        arn = create(client, "Kept", Tags=[{"Key": "a", "Value": "1"}])
        client.tag_resource(ResourceArn=arn, Tags=[{"Key": "b", "Value": "2"}])
        client.update_continuous_backups(
            TableName="Kept", PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True}
        )
        client.update_table(TableName="Kept", SSESpecification={"Enabled": True})
        client.update_contributor_insights(TableName="Kept", ContributorInsightsAction="ENABLE")
        client.put_resource_policy(ResourceArn=arn, Policy='{"Statement": []}')
        before = client.describe_table(TableName="Kept")["Table"]
        first.stop()
        self.assertTrue(data.joinpath("dynamodb", "tables.json").exists())
        client = start().client("dynamodb", "666666666666", REGION)
        self.assertEqual(
            tags_of(client, arn), [{"Key": "a", "Value": "1"}, {"Key": "b", "Value": "2"}]
        )
        recovery = client.describe_continuous_backups(TableName="Kept")[
            "ContinuousBackupsDescription"
        ]["PointInTimeRecoveryDescription"]
        self.assertEqual(recovery["PointInTimeRecoveryStatus"], "ENABLED")
        after = client.describe_table(TableName="Kept")["Table"]
        for member in ("TableId", "SSEDescription"):
            self.assertEqual(after[member], before[member])
        insights = client.describe_contributor_insights(TableName="Kept")
        self.assertEqual(insights["ContributorInsightsStatus"], "ENABLED")
        self.assertEqual(client.get_resource_policy(ResourceArn=arn)["Policy"], '{"Statement": []}')
