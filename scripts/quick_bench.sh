#!/bin/sh
# The engine's own quick benchmark (used by `make bench` only when build/itera-bench is
# not built): prefill and decode rates of the built-in synthetic model.
set -eu
ITERA=${1:-build/itera}
TMP=$(mktemp -d /tmp/itera-quick-XXXXXX)
trap 'rm -rf "$TMP"' EXIT
i=4; words=""
while [ $i -lt 2004 ]; do words="$words w$i"; i=$((i + 1)); done
for r in 1 2 3 4 5 6 7 8; do echo "$words"; done > "$TMP/text.txt"
for t in 1 2; do
    echo "prefill threads=$t: $("$ITERA" perplexity --text "$TMP/text.txt" --seq 128 --threads $t | tail -1)"
    echo "decode  threads=$t: $("$ITERA" generate -n 120 --temperature 0 --prompt w5 --threads $t | tail -1)"
done
