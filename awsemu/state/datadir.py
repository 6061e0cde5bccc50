"""
The data directory is private: secret access keys (IAM's store), object
bodies and table contents live there in clear, so on a shared machine no
other user may read them.

``make_private`` runs once at start, before any service writes: it sets
the daemon's umask to 077, so every file and directory a service (or a
child process such as DynamoDB Local) creates under the data directory
is its owner's only, and creates the directory itself with mode 0700. An
existing directory that others can read is left as its owner made it,
with a warning naming the command that fixes it.
"""

from __future__ import annotations

import os
import stat
from typing import Final

from twisted.logger import Logger
from twisted.python.filepath import FilePath

#: What the daemon creates may be read, written and searched by its owner only.
PRIVATE_UMASK: Final = 0o077
DIRECTORY_MODE: Final = 0o700
FILE_MODE: Final = 0o600

_log = Logger()


def write_private(path: FilePath[str], data: bytes) -> None:
    """
    Replace the file at ``path`` with ``data``, readable by its owner only
    whatever the umask: written aside, then renamed over it, so a crash
    leaves the old content or the new, never half of each. (Twisted's
    ``setContent`` creates files 0777 less the umask: 0755 by default.)
    """
    aside = path.siblingExtension(".new")
    descriptor = os.open(aside.path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, FILE_MODE)
    with os.fdopen(descriptor, "wb") as file:
        os.fchmod(file.fileno(), FILE_MODE)
        file.write(data)
    os.replace(aside.path, path.path)


def make_private(directory: FilePath[str], log: Logger = _log) -> None:
    """Set the private umask and create ``directory`` (mode 0700), or warn if others can read it."""
    os.umask(PRIVATE_UMASK)
    if not directory.exists():
        directory.makedirs()
        os.chmod(directory.path, DIRECTORY_MODE)
        return
    mode = stat.S_IMODE(os.stat(directory.path).st_mode)
    if mode & 0o077:
        log.warn(
            "The data directory {path} (mode {mode:04o}) is open to other users, and it holds"
            " secret keys and stored data in clear: run chmod 700 {path}",
            path=directory.path,
            mode=mode,
        )
