#!/bin/sh
# Install the Debian packages itera-bench builds and runs with, if any are missing.
# Root: apt-get install -y; otherwise print the command to run and fail.
set -u
PKGS="build-essential pkg-config libjansson-dev libcmocka-dev libhwloc-dev hwloc \
libpfm4-dev libinih-dev libbenchmark-dev nettle-dev gnuplot-nox python3"
missing=""
for p in $PKGS; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
echo "deps: missing Debian packages:$missing" >&2
if [ "$(id -u)" -eq 0 ]; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -q >&2 || true
    apt-get install -y -q $missing >&2 || { echo "deps: apt-get install failed" >&2; exit 1; }
else
    echo "deps: run: sudo apt-get install -y$missing" >&2
    exit 1
fi
