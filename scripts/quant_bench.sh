#!/bin/sh
# quant_bench.sh: FP32 vs int8 vs int4 speed with the itera CLI, interleaved rounds, best
# of N per quant (the machine may be shared: the best round is the least disturbed one).
#   prefill: itera perplexity --threads 2 --seq 128 --batch 1 (tokens/s of the forwards)
#   decode:  itera generate --threads 1 -n 120 --temperature 0 (tokens/s of decode steps)
# usage: scripts/quant_bench.sh [ITERA] [MODEL_DIR] [ROUNDS]
ITERA=${1:-build/itera}
MODEL=${2:-../shared/reference/itera-lite-micro}
ROUNDS=${3:-5}
TEXT="$MODEL/tinystories.txt"
[ -f "$TEXT" ] || { echo "quant_bench: $TEXT is absent (reference data lives in ../shared)" >&2; exit 2; }
OUT=$(mktemp)
trap 'rm -f "$OUT"' EXIT
r=0
while [ "$r" -lt "$ROUNDS" ]; do
    for q in fp32 int8 int4; do
        p=$("$ITERA" perplexity --model "$MODEL" --quant $q --threads 2 --seq 128 --batch 1 --text "$TEXT" |
            sed -n 's/.*tokens_per_second=\([0-9.]*\).*/\1/p')
        d=$("$ITERA" generate --model "$MODEL" --quant $q --threads 1 -n 120 --temperature 0 |
            sed -n 's/^tokens_per_second=\([0-9.]*\).*/\1/p')
        echo "$q $p $d" >> "$OUT"
    done
    r=$((r + 1))
done
isa=$("$ITERA" info --quant int8 | sed -n 's/.*matmul ISA path: \([^)]*\)).*/\1/p')
awk -v rounds="$ROUNDS" -v isa="$isa" '
    { if ($2 > p[$1]) p[$1] = $2; if ($3 > d[$1]) d[$1] = $3 }
    END {
        printf "best of %d rounds (integer ISA path: %s)\n", rounds, isa
        printf "%-5s %14s %8s %14s %8s\n", "quant", "prefill tok/s", "vs fp32", "decode tok/s", "vs fp32"
        n = split("fp32 int8 int4", qs, " ")
        for (i = 1; i <= n; i++) { q = qs[i]
            printf "%-5s %14.0f %7.2fx %14.0f %7.2fx\n", q, p[q], p[q] / p["fp32"], d[q], d[q] / d["fp32"] }
    }' "$OUT"
