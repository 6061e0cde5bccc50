"""
Identifiers shaped like AWS's, made from an injected random source so
tests can predict them.
"""

from __future__ import annotations

from base64 import b32encode, b64encode
from collections.abc import Container
from typing import Final

from awsemu.gateway.context import Random

_LOWER_ALNUM: Final = "abcdefghijklmnopqrstuvwxyz0123456789"


def iam_unique_id(random: Random, prefix: str, length: int = 21) -> str:
    """
    An IAM-style id such as ``AROA3XFRBF23BEXAMPLE``: a four-letter type
    prefix (``AROA`` role, ``AIDA`` user, ``AKIA``/``ASIA`` keys, ``ANPA``
    policy) then uppercase base32 characters, as AWS's ids are.
    """
    body = b32encode(random(length)).decode("ascii")
    return prefix + body[: length - len(prefix)]


def secret(random: Random, length: int) -> str:
    """A secret access key or session token: base64 text without padding."""

    return b64encode(random(length)).decode("ascii")[:length]


def short_id(random: Random, taken: Container[str] = (), length: int = 10) -> str:
    """An API Gateway id such as ``a1b2c3d4e5`` (lowercase letters and digits), not in ``taken``."""
    while True:
        candidate = "".join(_LOWER_ALNUM[byte % len(_LOWER_ALNUM)] for byte in random(length))
        if candidate not in taken:
            return candidate
