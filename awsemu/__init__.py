"""awsemu: a local AWS emulator (S3, DynamoDB, Lambda, API Gateway) on one Twisted port."""

__version__ = "0.1.0"
