# shellcheck shell=bash
# Sourced by the ci/ scripts: install Debian packages without a needless
# `apt-get update` (slow, and a fresh machine's lists may already do), but
# with one when the lists do not offer a package yet; and read the image
# scripts' one option.

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

# debian_mirror SUITE: the mirror apt already uses for SUITE ($AWSEMU_DEBIAN_MIRROR
# overrides): on machines that may reach only one mirror (or a proxy of one),
# it is the one known to answer.
debian_mirror() {
    if [[ -n ${AWSEMU_DEBIAN_MIRROR:-} ]]; then
        echo "$AWSEMU_DEBIAN_MIRROR"
        return
    fi
    local mirror
    # shellcheck disable=SC2016 # $(FIELD) is apt's own syntax, not the shell's.
    mirror=$(apt-get indextargets --format '$(RELEASE) $(REPO_URI)' 'Identifier: Packages' 2>/dev/null |
        awk -v suite="$1" '$1 == suite { print $2; exit }')
    echo "${mirror:-http://deb.debian.org/debian/}"
}

# rebuild_option ARGUMENT...: the image scripts' usage, `SCRIPT [--rebuild]`;
# sets rebuild to 1 for --rebuild, to nothing without it, exits 2 otherwise.
# shellcheck disable=SC2034 # rebuild is read by the scripts that source this file.
rebuild_option() {
    case ${1:-} in
        --rebuild) rebuild=1 ;;
        "") rebuild= ;;
        *)
            echo "usage: $0 [--rebuild]" >&2
            exit 2
            ;;
    esac
}
