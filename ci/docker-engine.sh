#!/usr/bin/env bash
# Make sure a Docker engine answers on this machine, for the Lambda tests.
#
#     ci/docker-engine.sh
#
# Idempotent: if `docker info` already answers (an engine of the host, or
# one an earlier run started), nothing is done. Otherwise docker.io is
# installed if needed and dockerd is started in the background, detached so
# it outlives this script, with its log in $AWSEMU_DOCKERD_LOG
# (/var/log/dockerd.log). It runs without a bridge or iptables rules: CI
# machines often cannot create either, and awsemu runs Lambda containers
# with host networking, so they reach the daemon's Runtime API on 127.0.0.1.
# Waits at most $AWSEMU_DOCKERD_TIMEOUT seconds (60) for the engine.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")"
# shellcheck source-path=SCRIPTDIR
source ./apt.sh

LOG=${AWSEMU_DOCKERD_LOG:-/var/log/dockerd.log}
TIMEOUT=${AWSEMU_DOCKERD_TIMEOUT:-60}

engine_answers() {
    docker info >/dev/null 2>&1
}

if command -v docker >/dev/null && engine_answers; then
    echo "docker-engine: an engine already answers; nothing to do"
    exit 0
fi

ensure_packages dockerd docker.io

# A dockerd that is still starting (an earlier run that timed out, or a
# concurrent one) would make a second one fail on its pid file: wait for it.
if pgrep -x dockerd >/dev/null; then
    echo "docker-engine: dockerd is running but not answering yet; waiting for it"
else
    echo "docker-engine: starting dockerd, log in $LOG"
    setsid dockerd --bridge=none --iptables=false </dev/null >>"$LOG" 2>&1 &
fi

deadline=$((SECONDS + TIMEOUT))
while ((SECONDS < deadline)); do
    if engine_answers; then
        echo "docker-engine: engine ready ($(docker info --format '{{.ServerVersion}}, storage {{.Driver}}'))"
        exit 0
    fi
    sleep 0.1
done
echo "docker-engine: no answer from dockerd after ${TIMEOUT}s; the end of $LOG:" >&2
tail -n 20 "$LOG" >&2 || true
exit 1
