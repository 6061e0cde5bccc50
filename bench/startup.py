"""
Time from process start to the first answered STS GetCallerIdentity, and
the daemon's idle memory 5 s later.

    python bench/startup.py [--services s3,sts] [--runs 5]

Issue #2's targets on a 2-core machine with S3+STS enabled: ready ≤ 0.6 s,
idle RSS ≤ 70 MiB.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from _daemon import daemon, raw_request, rss_mib, wait_until  # noqa: E402

BODY = b"Action=GetCallerIdentity&Version=2011-06-15"
SIGNED = (
    b"AWS4-HMAC-SHA256 Credential=000000000000/20250101/us-east-1/sts/aws4_request, "
    b"SignedHeaders=host, Signature=0"
)


def caller_identity_request(port: int) -> bytes:
    return (
        b"POST / HTTP/1.0\r\nHost: 127.0.0.1:%d\r\n"
        b"Content-Type: application/x-www-form-urlencoded\r\n"
        b"Authorization: %s\r\nContent-Length: %d\r\n\r\n%s" % (port, SIGNED, len(BODY), BODY)
    )


def one_run(services: str, idle: float) -> tuple[float, float]:
    started = time.monotonic()
    with daemon(["--services", services]) as (process, port):
        request = caller_identity_request(port)

        def answered() -> bool:
            return b"<Account>000000000000</Account>" in raw_request(port, request)

        ready = wait_until(started + 30, answered) - started
        time.sleep(idle)
        return ready, rss_mib(process.pid)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[1])
    parser.add_argument("--services", default="s3,sts")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--idle", type=float, default=5.0)
    arguments = parser.parse_args()
    results = [one_run(arguments.services, arguments.idle) for _ in range(arguments.runs)]
    readies = [ready for ready, _ in results]
    rsses = [rss for _, rss in results]
    print(f"services: {arguments.services}; runs: {arguments.runs}")
    print(
        f"ready (first GetCallerIdentity answered): median {statistics.median(readies):.3f} s, "
        f"min {min(readies):.3f} s, max {max(readies):.3f} s"
    )
    print(
        f"idle RSS {arguments.idle:.0f} s later: median {statistics.median(rsses):.1f} MiB, "
        f"max {max(rsses):.1f} MiB"
    )


if __name__ == "__main__":
    main()
