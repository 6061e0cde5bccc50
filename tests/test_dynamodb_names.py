"""
Tables named by ARN (L{awsemu.dynamodb.names}): the rewriting of requests
and answers, with a fake DynamoDB Local. End to end in
C{tests.test_dynamodb_fidelity}.
"""

from __future__ import annotations

import json
from typing import cast

from tests.test_dynamodb_proxy import PUBLIC, S, StoreAnsweredCase

ARN = PUBLIC + "table/Orders"
ITEM_DATA = {
    "TableName": {S: ARN},
    ARN: {"M": {"Keys": {"L": []}}},
    "ok": {S: f'"TableName":"{ARN}"'},
}
"""Item data that reads like table ARNs, and must pass untouched."""


class NamesTests(StoreAnsweredCase):
    def test_item_operation(self) -> None:
        """An ARN as C{TableName} is forwarded as the name, and answered as the ARN."""
        self.answer(200, b'{"ConsumedCapacity":{"TableName":"Orders","CapacityUnits":1.0}}')
        response = self.handle(
            "PutItem", {"TableName": ARN, "Item": ITEM_DATA, "ReturnConsumedCapacity": "TOTAL"}
        )
        [(_, sent)] = self.local.received
        self.assertEqual(json.loads(sent)["TableName"], "Orders")
        self.assertEqual(json.loads(sent)["Item"], ITEM_DATA)
        self.assertEqual(
            json.loads(cast(bytes, response.body))["ConsumedCapacity"]["TableName"], ARN
        )

    def test_transaction(self) -> None:
        """Each of a transaction's tables given by ARN is forwarded by name."""
        self.answer(200, b"{}")
        self.handle(
            "TransactWriteItems",
            {
                "TransactItems": [
                    {"Put": {"TableName": ARN, "Item": ITEM_DATA}},
                    {"Delete": {"TableName": "Other", "Key": {"id": {S: "a"}}}},
                ]
            },
        )
        sent = json.loads(self.local.received[0][1])["TransactItems"]
        self.assertEqual([item.popitem()[1]["TableName"] for item in sent], ["Orders", "Other"])

    def test_batches(self) -> None:
        """A batch's tables given by ARN: keys forwarded as names, answered as ARNs."""
        self.answer(
            200,
            json.dumps(
                {
                    "Responses": {"Orders": [{"Orders": {"L": []}}]},
                    "UnprocessedKeys": {"Orders": {"Keys": [{"id": {S: "b"}}]}},
                    "ConsumedCapacity": [{"TableName": "Orders", "CapacityUnits": 1.0}],
                }
            ).encode(),
        )
        response = self.handle(
            "BatchGetItem",
            {"RequestItems": {ARN: {"ConsistentRead": True, "Keys": [{"id": {S: ARN}}]}}},
        )
        sent = json.loads(self.local.received[0][1])
        self.assertEqual(
            sent, {"RequestItems": {"Orders": {"ConsistentRead": True, "Keys": [{"id": {S: ARN}}]}}}
        )
        self.assertEqual(
            json.loads(cast(bytes, response.body)),
            {
                "Responses": {ARN: [{"Orders": {"L": []}}]},
                "UnprocessedKeys": {ARN: {"Keys": [{"id": {S: "b"}}]}},
                "ConsumedCapacity": [{"TableName": ARN, "CapacityUnits": 1.0}],
            },
        )
        self.answer(200, b'{"UnprocessedItems":{}}')
        self.handle(
            "BatchWriteItem",
            {"RequestItems": {ARN: [{"PutRequest": {"Item": ITEM_DATA}}]}},
        )
        sent = json.loads(self.local.received[1][1])
        self.assertEqual(sent, {"RequestItems": {"Orders": [{"PutRequest": {"Item": ITEM_DATA}}]}})

    def test_names_unchanged(self) -> None:
        """A request that names its tables is forwarded byte for byte, answer too."""
        self.answer(200, b'{"ConsumedCapacity":{"TableName":"Orders"}}')
        document = {"TableName": "Orders", "Key": {"id": {S: ARN}}}
        response = self.handle("GetItem", document)
        self.assertEqual(
            self.local.received[0][1], json.dumps(document, separators=(",", ":")).encode()
        )
        self.assertEqual(response.body, b'{"ConsumedCapacity":{"TableName":"Orders"}}')

    def test_other_account(self) -> None:
        """Another account's table: refused as AWS refuses it, not forwarded."""
        other = "arn:aws:dynamodb:eu-west-1:999999999999:table/Orders"
        response = self.handle("GetItem", {"TableName": other, "Key": {}})
        self.assertError(
            response,
            400,
            "AccessDeniedException",
            "User: arn:aws:iam::111111111111:root is not authorized to perform:"
            f" dynamodb:GetItem on resource: {other} because no resource-based policy"
            " allows the dynamodb:GetItem action",
        )
        self.assertEqual(self.local.received, [])

    def test_other_region(self) -> None:
        """Another region's table is not found in the caller's."""
        other = "arn:aws:dynamodb:us-west-2:111111111111:table/Orders"
        response = self.handle("Query", {"TableName": other})
        self.assertError(response, 400, "ResourceNotFoundException", "Requested resource not found")
        self.assertEqual(self.local.received, [])
