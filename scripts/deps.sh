#!/bin/sh
# deps.sh: install what itera-bench needs, by group, from Debian (npm where Debian has none).
#
#   sh scripts/deps.sh [--check] [GROUP...]        (no group: core)
#   sh scripts/deps.sh --list                      the groups and their packages
#
# Groups: one line each in GROUP_TABLE below, `name  package...`; adding a group (or a package)
# is adding (or editing) one line. The Makefile installs `core` before it builds anything
# (make, make test, make bench, ...); a target that needs another group asks for it
# (`sh scripts/deps.sh torch`), and `make deps DEPS_GROUPS="slurm fuzz"` installs some by
# hand. A package is written as
#   NAME          a Debian package (present when dpkg says "install ok installed")
#   cmd:CMD=NAME  present when the command CMD is on PATH, else the Debian package NAME
#                 (for a tool that may come from elsewhere, e.g. nodesource's node + npm)
#   npm:NAME[@V]  an npm package in <repo>/node_modules (installed with npm, no root; V pins
#                 the version; install scripts are not run: onnxruntime-node's only fetches
#                 optional GPU files from outside the npm registry, which fails offline)
#
# What is missing is installed: Debian packages with apt-get as root (waiting up to
# DEPS_LOCK_TIMEOUT seconds, default 600, for another apt or dpkg to finish); as any other
# user one line with the `sudo apt-get install` to run, and exit 1. --check only reports.
# Exit: 0 everything present (or now installed); 1 something missing or an install
# failed; 2 bad usage (an unknown group, with the valid ones).
#
# For tests (tests/cli/deps.sh), two hooks replace the system calls:
#   DEPS_QUERY="cmd"    `cmd NAME` exits 0 when Debian package NAME is installed
#   DEPS_INSTALL="cmd"  `cmd NAME...` installs Debian packages (instead of apt-get; no
#                       root needed)
set -u

GROUP_TABLE='
core   build-essential pkg-config libjansson-dev libcmocka-dev libhwloc-dev hwloc libpfm4-dev libinih-dev libbenchmark-dev nettle-dev zlib1g-dev gnuplot-nox python3
slurm  slurm-wlm munge
ort    cmd:node=nodejs cmd:npm=npm python3-torch npm:onnxruntime-node@1.30.0
torch  python3-torch
fuzz   clang libclang-rt-14-dev
'

ROOT=$(cd "$(dirname "$0")/.." && pwd)
say() { echo "deps: $*" >&2; }

group_names() { echo "$GROUP_TABLE" | awk 'NF { printf "%s%s", sep, $1; sep = ", " }'; }
group_packages() { echo "$GROUP_TABLE" | awk -v g="$1" '$1 == g { $1 = ""; print; found = 1 } END { exit !found }'; }

check_only=0
groups=""
for a in "$@"; do
    case "$a" in
    --check) check_only=1 ;;
    --list) echo "$GROUP_TABLE" | awk 'NF { n = $1; $1 = ""; printf "%-6s%s\n", n, $0 }'; exit 0 ;;
    -h|--help) sed -n '2,/^set -u/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    -*) say "unknown option '$a'; options: --check, --list, --help"; exit 2 ;;
    *) groups="$groups $a" ;;
    esac
done
[ -n "$groups" ] || groups=core

entries=""
for g in $groups; do
    pk=$(group_packages "$g") || { say "unknown group '$g'; groups: $(group_names)"; exit 2; }
    entries="$entries $pk"
done

deb_installed() {
    if [ -n "${DEPS_QUERY:-}" ]; then
        $DEPS_QUERY "$1" >/dev/null 2>&1
    else
        dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"
    fi
}

# The entries that are missing, split by how they are installed.
find_missing() {
    miss_deb=""
    miss_npm=""
    for e in $entries; do
        case "$e" in
        npm:*)
            pkg=${e#npm:}
            dir=${pkg%@*}          # the folder: the name without @version (a scoped @a/b keeps its @)
            [ -n "$dir" ] || dir=$pkg
            [ -d "$ROOT/node_modules/$dir" ] || miss_npm="$miss_npm $pkg" ;;
        cmd:*)
            c=${e#cmd:}
            command -v "${c%%=*}" >/dev/null 2>&1 || deb_installed "${c#*=}" || miss_deb="$miss_deb ${c#*=}" ;;
        *) deb_installed "$e" || miss_deb="$miss_deb $e" ;;
        esac
    done
}

if [ -z "${DEPS_QUERY:-}" ] && ! command -v dpkg-query >/dev/null 2>&1; then
    say "not a Debian system (no dpkg-query): cannot check; itera-bench needs:$entries"
    exit 0
fi
find_missing
[ -z "$miss_deb$miss_npm" ] && exit 0
[ -n "$miss_deb" ] && say "missing Debian packages:$miss_deb"
[ -n "$miss_npm" ] && say "missing npm packages (into $ROOT/node_modules):$miss_npm"
[ $check_only = 1 ] && exit 1

lock=${DEPS_LOCK_TIMEOUT:-600}
if [ -n "$miss_deb" ]; then
    if [ -n "${DEPS_INSTALL:-}" ]; then
        # shellcheck disable=SC2086
        $DEPS_INSTALL $miss_deb >&2 || { say "install failed:$miss_deb"; exit 1; }
    elif [ "$(id -u)" -eq 0 ]; then
        export DEBIAN_FRONTEND=noninteractive
        say "installing with apt-get (waiting up to ${lock} s for the dpkg lock)..."
        apt-get -o DPkg::Lock::Timeout="$lock" update -q >&2 ||
            say "warning: apt-get update failed; trying the install with the lists there are"
        # shellcheck disable=SC2086
        apt-get -o DPkg::Lock::Timeout="$lock" install -y -q --no-install-recommends $miss_deb >&2 ||
            { say "apt-get install failed:$miss_deb"; exit 1; }
    else
        say "run: sudo apt-get install -y --no-install-recommends$miss_deb"
        exit 1
    fi
fi
if [ -n "$miss_npm" ]; then
    command -v npm >/dev/null 2>&1 || { say "npm is not installed (it comes with the group that lists cmd:npm=npm)"; exit 1; }
    say "installing with npm into $ROOT/node_modules..."
    # shellcheck disable=SC2086
    npm install --prefix "$ROOT" --ignore-scripts --no-save --no-package-lock --no-audit --no-fund $miss_npm >&2 ||
        { say "npm install failed:$miss_npm"; exit 1; }
fi
find_missing
if [ -n "$miss_deb$miss_npm" ]; then
    say "still missing after the install:$miss_deb$miss_npm"
    exit 1
fi
say "installed"
