"""
How soon DynamoDB answers after the daemon starts, against DynamoDB Local's
own start.

Each round, in turn:

- "jvm": DynamoDB Local alone, run as the daemon runs it (the same
  ``java`` command line, launcher and options: ``JvmCommand.jvm_argv``)
  but without class data sharing, from its spawn to its first successful
  ListTables: DynamoDB Local as it comes;
- "jvm-cds": the same with the class data sharing archive (see
  ``awsemu.dynamodb.sharing``), when ``awsemu install dynamodb-local`` made it;
- "daemon": ``twistd -n awsemu --services dynamodb`` from this tree, from
  the process's spawn to the first successful ListTables through it;
- "other" (with ``--other TREE``): the same daemon from another checkout
  of awsemu (say ``git archive main | tar -x -C /tmp/main``), for A/B.

Both poll every 10 ms with ``http.client``. Prints each run, the medians,
the daemon's median minus the JVM's, and the load average before and after.

With ``--phases N``, times N starts of this tree's daemon phase by phase
instead: the JVM's spawn, the port open, DynamoDB Local's own first
answer, the daemon's.

Usage: python bench/dynamodb_start.py [--rounds N] [--other TREE] [--phases N]
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # awsemu from this tree, when it is not installed.

from dynamodb import Client, free_port  # noqa: E402

from awsemu.dynamodb.supervisor import JvmCommand  # noqa: E402


def answering(process: subprocess.Popen[bytes], port: int, started: float) -> float:
    """Seconds from ``started`` to the first successful ListTables on ``port``."""
    while True:
        try:
            if Client(port).call("ListTables", {})[0] == 200:
                return time.perf_counter() - started
        except OSError:
            pass
        if process.poll() is not None or time.perf_counter() - started > 60:
            raise RuntimeError("no answer")
        time.sleep(0.01)


def stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    process.wait(30)


def jvm_command() -> JvmCommand:
    """DynamoDB Local as the daemon runs it."""
    from awsemu.dynamodb.installer import default_cache_dir, find_dynamodb_local

    cache_dir = default_cache_dir(os.environ)
    dynamodb_local = find_dynamodb_local(cache_dir)
    java = shutil.which("java")
    if dynamodb_local is None or java is None:
        raise SystemExit("DynamoDB Local or java is missing: run `awsemu install dynamodb-local`")
    command = JvmCommand(java, dynamodb_local, cache_dir=cache_dir)
    if not command.compiled():
        raise SystemExit("start the daemon with DynamoDB once first: it compiles the launcher")
    return command


def jvm_alone(archive: bool) -> float:
    """
    Spawn to first ListTables of DynamoDB Local run as the daemon runs it,
    with its class data sharing archive if ``archive`` (and it is made).
    """
    command = jvm_command()
    port = free_port()
    argv = (
        command.argv(port)
        if archive
        else command.jvm_argv(port, f"{command.launcher}:{command.dynamodb_local.jar}")
    )
    started = time.perf_counter()
    process = subprocess.Popen(
        argv,
        cwd=command.dynamodb_local.directory,
        stdin=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        return answering(process, port, started)
    finally:
        stop(process)


def spawn_daemon(tree: Path, port: int, directory: str) -> subprocess.Popen[bytes]:
    """``twistd -n awsemu`` serving DynamoDB alone, run from ``tree``, logging in ``directory``."""
    return subprocess.Popen(
        [sys.executable, "-c", "from twisted.scripts.twistd import run; run()", "-n"]
        + ["--pidfile=", f"--logfile={directory}/daemon.log", "awsemu"]
        + ["--services", "dynamodb", "--port", f"tcp:{port}:interface=127.0.0.1"],
        cwd=tree,
    )


def daemon(tree: Path) -> float:
    """Spawn to first ListTables through ``twistd -n awsemu`` run from ``tree``."""
    port = free_port()
    with tempfile.TemporaryDirectory() as directory:
        started = time.perf_counter()
        process = spawn_daemon(tree, port, directory)
        try:
            return answering(process, port, started)
        finally:
            stop(process)


def phases(tree: Path) -> dict[str, float]:
    """
    When, from the daemon's spawn, its JVM is spawned, its port accepts
    connections, DynamoDB Local itself first answers ListTables, and the
    daemon does: each watched in its own thread.
    """
    port = free_port()
    seen: dict[str, float] = {}
    done = threading.Event()
    with tempfile.TemporaryDirectory() as directory:
        started = time.perf_counter()
        process = spawn_daemon(tree, port, directory)

        def jvm() -> None:
            while not done.is_set():
                for child in (
                    Path(f"/proc/{process.pid}/task/{process.pid}/children").read_text().split()
                ):
                    try:
                        argv = Path(f"/proc/{child}/cmdline").read_bytes().split(b"\0")
                    except OSError:
                        continue
                    if b"-port" in argv:
                        seen["JVM spawned"] = time.perf_counter() - started
                        jvm_port = int(argv[argv.index(b"-port") + 1])
                        seen["JVM answers"] = answering(process, jvm_port, started)
                        return
                time.sleep(0.002)

        def listening() -> None:
            while not done.is_set():
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=1).close()
                except OSError:
                    time.sleep(0.005)
                    continue
                seen["port open"] = time.perf_counter() - started
                return

        watchers = [threading.Thread(target=watch) for watch in (jvm, listening)]
        for watcher in watchers:
            watcher.start()
        try:
            seen["daemon answers"] = answering(process, port, started)
        finally:
            done.set()
            for watcher in watchers:
                watcher.join()
            stop(process)
    return dict(sorted(seen.items(), key=lambda item: item[1]))


def load() -> str:
    return " ".join(f"{value:.2f}" for value in os.getloadavg())


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--other", type=Path, help="another awsemu checkout to compare")
    parser.add_argument(
        "--phases", type=int, metavar="N", help="instead, time N daemon starts phase by phase"
    )
    arguments = parser.parse_args(argv)
    if arguments.phases:
        print(f"load average before: {load()}")
        for _ in range(arguments.phases):
            print(", ".join(f"{name} {at:.2f} s" for name, at in phases(ROOT).items()))
        print(f"load average after: {load()}")
        return
    kinds = {"jvm": lambda: jvm_alone(True), "daemon": lambda: daemon(ROOT)}
    if jvm_command().class_archive.class_path() is not None:
        kinds["jvm-cds"], kinds["jvm"] = kinds["jvm"], lambda: jvm_alone(False)
    if arguments.other is not None:
        kinds["other"] = lambda: daemon(arguments.other.resolve())
    print(f"load average before: {load()}")
    times: dict[str, list[float]] = {kind: [] for kind in kinds}
    for round_ in range(arguments.rounds):
        for kind, run in kinds.items():
            times[kind].append(run())
            time.sleep(0.5)  # Let the stopped JVM's memory go before the next start.
        print(f"round {round_ + 1}: " + ", ".join(f"{k} {v[-1]:.2f} s" for k, v in times.items()))
    print(f"load average after: {load()}")
    medians = {kind: statistics.median(values) for kind, values in times.items()}
    for kind, values in times.items():
        print(
            f"{kind:7} median {medians[kind]:.2f} s (min {min(values):.2f}, max {max(values):.2f})"
            + (
                ""
                if kind.startswith("jvm")
                else f"; JVM alone + {medians[kind] - medians['jvm']:.2f} s"
            )
        )


if __name__ == "__main__":
    main()
