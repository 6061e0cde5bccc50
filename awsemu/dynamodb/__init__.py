"""
DynamoDB and DynamoDB Streams, served by a supervised DynamoDB Local JVM
behind the gateway: L{awsemu.dynamodb.service} builds the service,
L{awsemu.dynamodb.proxy} is what changes requests on the way, and
L{awsemu.dynamodb.supervisor} keeps the JVM running.

Importing this package imports nothing: the daemon starts DynamoDB Local
(through L{awsemu.dynamodb.jvm}) before it loads the gateway's modules.
"""
