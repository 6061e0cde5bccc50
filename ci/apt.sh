# shellcheck shell=bash
# Sourced by the ci/ scripts: install Debian packages without a needless
# `apt-get update` (slow, and a fresh machine's lists may already do), but
# with one when the lists do not offer a package yet.

# ensure_packages COMMAND PACKAGE...: install PACKAGEs unless COMMAND is on PATH.
ensure_packages() {
    local command=$1
    shift
    if command -v "$command" >/dev/null; then
        return
    fi
    local package
    for package in "$@"; do
        if ! apt-cache policy "$package" 2>/dev/null | grep -q 'Candidate: [^(]'; then
            apt-get update
            break
        fi
    done
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "$@"
}
