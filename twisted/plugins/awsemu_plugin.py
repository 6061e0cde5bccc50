"""
Makes awsemu available as C{twistd awsemu}.

This directory extends Twisted's C{twisted.plugins} package, so it must
never hold an C{__init__.py} (nor may C{twisted/}): installed, that file
would replace Twisted's own and hide every other plugin.
"""

from twisted.application.service import ServiceMaker

awsemu = ServiceMaker(
    "awsemu",
    "awsemu.tap",
    "A local AWS emulator: S3, DynamoDB, Lambda, API Gateway on one port",
    "awsemu",
)
