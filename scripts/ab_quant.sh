#!/bin/sh
# ab_quant.sh: interleaved A/B of two builds of the itera CLI on fp32/int8/int4 prefill and
# decode (the workloads of quant_bench.sh), ROUNDS rounds; within a round each quant runs
# A then B, or B then A on odd rounds (ABBA), so drift hits both alike. Prints per build,
# quant and phase the median tokens/s, the min-max spread, and B/A of the medians.
#   prefill: itera perplexity --threads 2 --seq 128 --batch 1 (tokens/s of the forwards)
#   decode:  itera generate --threads 1 -n 120 --temperature 0 (tokens/s of decode steps)
# usage: scripts/ab_quant.sh ITERA_A ITERA_B [MODEL_DIR] [ROUNDS]
# Wrap it in `flock /work/bench.lock` on a shared machine.
A=${1:?usage: ab_quant.sh ITERA_A ITERA_B [MODEL_DIR] [ROUNDS]}
B=${2:?usage: ab_quant.sh ITERA_A ITERA_B [MODEL_DIR] [ROUNDS]}
MODEL=${3:-../shared/reference/itera-lite-micro}
ROUNDS=${4:-10}
TEXT="$MODEL/tinystories.txt"
[ -f "$TEXT" ] || { echo "ab_quant: $TEXT is absent (reference data lives in ../shared)" >&2; exit 2; }
OUT=$(mktemp)
trap 'rm -f "$OUT"' EXIT
one() { # build-label binary quant
    p=$("$2" perplexity --model "$MODEL" --quant "$3" --threads 2 --seq 128 --batch 1 --text "$TEXT" |
        sed -n 's/.*tokens_per_second=\([0-9.]*\).*/\1/p')
    d=$("$2" generate --model "$MODEL" --quant "$3" --threads 1 -n 120 --temperature 0 |
        sed -n 's/^tokens_per_second=\([0-9.]*\).*/\1/p')
    echo "$1 $3 prefill $p" >> "$OUT"
    echo "$1 $3 decode $d" >> "$OUT"
}
r=0
while [ "$r" -lt "$ROUNDS" ]; do
    for q in fp32 int8 int4; do
        if [ $((r % 2)) -eq 0 ]; then one A "$A" $q; one B "$B" $q; else one B "$B" $q; one A "$A" $q; fi
    done
    r=$((r + 1))
done
echo "A = $A, B = $B, $ROUNDS interleaved rounds, model $MODEL, $(nproc) CPUs"
for q in fp32 int8 int4; do
    for ph in prefill decode; do
        ma=$(awk -v q=$q -v ph=$ph '$1 == "A" && $2 == q && $3 == ph { print $4 }' "$OUT" | sort -g |
             awk '{ v[NR] = $1 } END { m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2;
                                       printf "%.0f %.0f %.0f", m, v[1], v[NR] }')
        mb=$(awk -v q=$q -v ph=$ph '$1 == "B" && $2 == q && $3 == ph { print $4 }' "$OUT" | sort -g |
             awk '{ v[NR] = $1 } END { m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2;
                                       printf "%.0f %.0f %.0f", m, v[1], v[NR] }')
        echo "$q $ph $ma $mb" | awk '{ printf "%-5s %-8s A median %8d tok/s (%d-%d)   B median %8d tok/s (%d-%d)   B/A %.3f\n",
                                        $1, $2, $3, $4, $5, $6, $7, $8, $6 / $3 }'
    done
done
