#!/usr/bin/env bash
# Build awsemu's Lambda Python runtime image offline (no image registry is
# needed), laid out like AWS's public.ecr.aws/lambda/python:3.11 so that
# awsemu runs it exactly as it would run the official image (which it
# cannot pull here):
#
#     ci/lambda-image.sh [--rebuild]
#
#   /lambda-entrypoint.sh   the entrypoint; the container command is the handler
#   /var/runtime/bootstrap  runs awslambdaric (AWS's runtime interface client)
#   /var/runtime            awslambdaric and boto3 (which AWS's Python runtimes
#                           include), with their dependencies
#   /var/task               the function's code (mounted by awsemu), the workdir
#   /opt                    layers
#
# The image is $AWSEMU_LAMBDA_IMAGE (awsemu/lambda-python:3.11), labelled
# awsemu.image=lambda-python. Idempotent: an existing image is kept unless
# --rebuild is given or it was built by another version of this script
# (its awsemu.recipe label). It is a Debian bookworm rootfs made by
# debootstrap from the mirror this machine's apt uses ($AWSEMU_DEBIAN_MIRROR
# overrides) plus awslambdaric and boto3 from PyPI ($AWSEMU_AWSLAMBDARIC and
# $AWSEMU_BOTO3, pip requirements, override the pinned awslambdaric and the
# newest boto3), imported with `docker import`. Needs root and a Docker
# engine (ci/docker-engine.sh).
set -euo pipefail

IMAGE=${AWSEMU_LAMBDA_IMAGE:-awsemu/lambda-python:3.11}
AWSLAMBDARIC=${AWSEMU_AWSLAMBDARIC:-awslambdaric==4.2.2}
BOTO3=${AWSEMU_BOTO3:-boto3}
PYTHON=${PYTHON:-python3}
# bookworm's python3 is 3.11: the Python of the Lambda runtime emulated.
SUITE=bookworm
PYTHON_VERSION=3.11

cd "$(dirname "${BASH_SOURCE[0]}")"
# shellcheck source-path=SCRIPTDIR
source ./apt.sh

rebuild_option "$@"

# What the image is built from: this script and the requirements it installs.
recipe=$({ cat "$(basename "${BASH_SOURCE[0]}")"; echo "$AWSLAMBDARIC $BOTO3"; } | sha256sum | cut -c1-16)
previous=$(docker image inspect --format '{{.Id}}' "$IMAGE" 2>/dev/null) || previous=
if [[ -n $previous && -z $rebuild ]]; then
    built=$(docker image inspect --format '{{index .Config.Labels "awsemu.recipe"}}' "$IMAGE")
    if [[ $built == "$recipe" ]]; then
        echo "lambda-image: $IMAGE exists; nothing to do (--rebuild to build it again)"
        exit 0
    fi
    echo "lambda-image: $IMAGE was built by another version of $0: rebuilding it"
fi

ensure_packages debootstrap debootstrap

started=$SECONDS
work=$(mktemp -d /tmp/awsemu-lambda-image.XXXXXX)
trap 'rm -rf "$work"' EXIT
rootfs=$work/rootfs
mirror=$(debian_mirror "$SUITE")

echo "lambda-image: debootstrap $SUITE from $mirror"
debootstrap --variant=minbase --include=python3 "$SUITE" "$rootfs" "$mirror" >"$work/debootstrap.log" 2>&1 || {
    tail -n 30 "$work/debootstrap.log" >&2
    exit 1
}
echo "lambda-image: debootstrap took $((SECONDS - started)) s"

# Wheels for the image's Python and glibc (bookworm's is 2.36), whatever
# Python runs pip here; one resolution, so both share their dependencies.
echo "lambda-image: pip install $AWSLAMBDARIC $BOTO3"
"$PYTHON" -m pip install --quiet --target "$rootfs/var/runtime" \
    --only-binary=:all: --implementation cp --python-version "$PYTHON_VERSION" --no-warn-conflicts \
    --platform "manylinux_2_17_$(uname -m)" "$AWSLAMBDARIC" "$BOTO3"
rm -rf "$rootfs"/var/runtime/bin

mkdir -p "$rootfs"/var/task "$rootfs"/opt "$rootfs"/var/lang/bin
# AWS's images keep Python in /var/lang/bin, which tools and shebangs name.
ln -s /usr/bin/python$PYTHON_VERSION "$rootfs"/var/lang/bin/python$PYTHON_VERSION
ln -s python$PYTHON_VERSION "$rootfs"/var/lang/bin/python3

# As AWS's entrypoint, but where it would start its Runtime Interface
# Emulator (AWS_LAMBDA_RUNTIME_API unset) we have none: awsemu serves the
# Runtime API itself.
cat >"$rootfs"/lambda-entrypoint.sh <<'SCRIPT'
#!/bin/sh
if [ $# -ne 1 ]; then
    echo "entrypoint requires the handler name to be the first argument" 1>&2
    exit 142
fi
export _HANDLER="$1"

if [ -z "${AWS_LAMBDA_RUNTIME_API}" ]; then
    echo "AWS_LAMBDA_RUNTIME_API is not set: this image has no Runtime Interface Emulator;" \
        "run it from awsemu, which serves the Runtime API" 1>&2
    exit 1
fi
exec /var/runtime/bootstrap
SCRIPT

# As AWS's bootstrap for python3.11, with the sys.path AWS's runtime has
# (function code first, then layers, then the runtime).
cat >"$rootfs"/var/runtime/bootstrap <<SCRIPT
#!/bin/sh
export AWS_EXECUTION_ENV=AWS_Lambda_python$PYTHON_VERSION
export PYTHONPATH="/var/task:/opt/python/lib/python$PYTHON_VERSION/site-packages:/opt/python:/var/runtime\${PYTHONPATH:+:\$PYTHONPATH}"

if [ -z "\$AWS_LAMBDA_EXEC_WRAPPER" ]; then
    exec /var/lang/bin/python$PYTHON_VERSION -m awslambdaric "\$_HANDLER"
fi
wrapper="\$AWS_LAMBDA_EXEC_WRAPPER"
if [ ! -f "\$wrapper" ]; then
    echo "\$wrapper: does not exist"
    exit 127
fi
if [ ! -x "\$wrapper" ]; then
    echo "\$wrapper: is not an executable"
    exit 126
fi
exec "\$wrapper" /var/lang/bin/python$PYTHON_VERSION -m awslambdaric "\$_HANDLER"
SCRIPT
chmod 755 "$rootfs"/lambda-entrypoint.sh "$rootfs"/var/runtime/bootstrap

# What a function never needs: package caches and lists, documentation.
rm -rf "$rootfs"/var/cache/apt/* "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/log/* \
    "$rootfs"/usr/share/doc/* "$rootfs"/usr/share/man/* "$rootfs"/usr/share/info/* \
    "$rootfs"/usr/share/locale/*

# installed_version NAME: the version of the distribution NAME in /var/runtime.
installed_version() {
    local info
    info=$(cd "$rootfs/var/runtime" && echo "$1"-*.dist-info)
    info=${info#"$1"-}
    echo "${info%.dist-info}"
}
echo "lambda-image: importing $IMAGE ($(du -sh "$rootfs" | cut -f1) of rootfs)"
tar -C "$rootfs" -c . | docker import \
    -c 'ENTRYPOINT ["/lambda-entrypoint.sh"]' \
    -c 'WORKDIR /var/task' \
    -c 'ENV LANG=C.UTF-8 TZ=:/etc/localtime LAMBDA_TASK_ROOT=/var/task LAMBDA_RUNTIME_DIR=/var/runtime' \
    -c 'ENV PATH=/var/lang/bin:/usr/local/bin:/usr/bin:/bin:/opt/bin' \
    -c "LABEL awsemu.image=lambda-python awsemu.python=$PYTHON_VERSION awsemu.recipe=$recipe" \
    -c "LABEL awsemu.awslambdaric=$(installed_version awslambdaric) awsemu.boto3=$(installed_version boto3)" \
    -m "awsemu Lambda Python $PYTHON_VERSION runtime, built by ci/lambda-image.sh" \
    - "$IMAGE" >/dev/null

# The wheels must fit the image's Python: import them there.
docker run --rm --network none --entrypoint /var/lang/bin/python3 -e PYTHONPATH=/var/runtime "$IMAGE" \
    -c 'import runtime_client, awslambdaric.bootstrap, simplejson, boto3; print("awslambdaric and boto3 import")'

# The image replaced by --rebuild, untagged now; kept while containers use it.
if [[ -n $previous ]]; then
    docker image rm "$previous" >/dev/null 2>&1 || true
fi

echo "lambda-image: built $IMAGE in $((SECONDS - started)) s" \
    "($(docker image inspect --format '{{.Size}}' "$IMAGE" | awk '{ printf "%.0f MB", $1 / 1e6 }'))"
