"""
The secret in the access keys the daemon sends DynamoDB Local.

DynamoDB Local keeps one database per access key id and region and checks
no signature, and any local user can connect to its loopback port: were
the key the account id, anyone could read any account's tables by naming
it. So the key is a secret followed by the account id
(L{awsemu.dynamodb.proxy.local_authorization}), and a direct connection
without the secret sees other, empty databases.

The secret is made once per daemon, or, with ``--data-dir``, kept in the
private data directory so that the tables outlive the daemon. A data
directory from before the secret holds ``<account>_<region>.db`` files:
they are renamed to the secret's names once, when the secret is made.
Only then: a file a direct connection created later is never taken for an
account's database.
"""

from __future__ import annotations

import os
import secrets
from typing import Final

from twisted.python.filepath import FilePath

from awsemu.state.datadir import write_private

SECRET_FILE: Final = "access-key-secret"


def new_secret() -> str:
    """
    A secret for one daemon: hex digits, since DynamoDB Local takes access
    key ids of letters and digits only.
    """
    return secrets.token_hex(16)


def kept_secret(directory: FilePath[str]) -> str:
    """
    The secret kept in ``directory`` (DynamoDB Local's ``-dbPath``), made
    (and the databases from before it renamed) on first use. It is written
    aside first, and put in place once every database is renamed, so a
    start cut short resumes with the same secret.
    """
    path = directory.child(SECRET_FILE)
    if path.exists():
        return path.getContent().decode().strip()
    if not directory.exists():
        directory.makedirs()
    aside = path.siblingExtension(".new")
    secret = aside.getContent().decode().strip() if aside.exists() else new_secret()
    write_private(aside, secret.encode())
    for database in directory.globChildren("*_*.db"):
        if not database.basename().startswith(secret):
            database.moveTo(directory.child(secret + database.basename()))
    os.replace(aside.path, path.path)
    return secret
