#!/bin/sh
# quant_bench.sh: the speed of each quant against FP32 with the itera CLI, in interleaved
# rounds (every quant once per round, in turn), so that drift on a shared machine hits all
# of them alike. Per quant: the median rate with its min..max over the rounds, and the
# median of the per-round ratios to FP32 with their min..max.
#   prefill: itera perplexity --threads 2 --seq 128 --batch 1 (tokens/s of the forwards)
#   forward: itera profile --threads 2 --seq 128 --batch 1 --reps 300: the median µs of one
#            forward (B=1, L=128) over 300 — a preempted forward moves a median less than
#            a total, so this column holds up better on a busy machine
#   decode:  itera generate --threads 1 -n 120 --temperature 0 (tokens/s of decode steps)
# usage: scripts/quant_bench.sh [ITERA] [MODEL_DIR] [ROUNDS] [QUANTS]
#   QUANTS: space-separated, fp32 first (default "fp32 int8 int4")
# On a shared machine run it under the benchmark lock: flock /work/bench.lock scripts/quant_bench.sh
ITERA=${1:-build/itera}
MODEL=${2:-../shared/reference/itera-lite-micro}
ROUNDS=${3:-9}
QUANTS=${4:-fp32 int8 int4}
TEXT="$MODEL/tinystories.txt"
[ -f "$TEXT" ] || { echo "quant_bench: $TEXT is absent (reference data lives in ../shared)" >&2; exit 2; }
case "$QUANTS" in fp32*) ;; *) echo "quant_bench: QUANTS must start with fp32 (the base)" >&2; exit 2 ;; esac
OUT=$(mktemp)
trap 'rm -f "$OUT"' EXIT
r=0
while [ "$r" -lt "$ROUNDS" ]; do
    for q in $QUANTS; do
        p=$("$ITERA" perplexity --model "$MODEL" --quant $q --threads 2 --seq 128 --batch 1 --text "$TEXT" |
            sed -n 's/.*tokens_per_second=\([0-9.]*\).*/\1/p')
        d=$("$ITERA" generate --model "$MODEL" --quant $q --threads 1 -n 120 --temperature 0 |
            sed -n 's/^tokens_per_second=\([0-9.]*\).*/\1/p')
        f=$("$ITERA" profile --model "$MODEL" --quant $q --threads 2 --seq 128 --batch 1 --reps 300 |
            sed -n 's/^wall_forward_us profiling_off=\([0-9.]*\).*/\1/p')
        [ -n "$p" ] && [ -n "$d" ] && [ -n "$f" ] || { echo "quant_bench: $q: no rate from $ITERA" >&2; exit 1; }
        echo "$r $q $p $d $f" >> "$OUT"
    done
    r=$((r + 1))
done
isa=$("$ITERA" info --quant int8 | sed -n 's/.*matmul ISA path: \([^)]*\)).*/\1/p')
# median of the sorted values of one column (odd count: the middle; even: mean of the two)
awk -v rounds="$ROUNDS" -v isa="$isa" -v quants="$QUANTS" '
    function sortn(a, n,    i, j, t) { for (i = 2; i <= n; i++) { t = a[i]; for (j = i - 1; j >= 1 && a[j] > t; j--) a[j + 1] = a[j]; a[j + 1] = t } }
    function med(a, n) { sortn(a, n); return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2 }
    { P[$1, $2] = $3; D[$1, $2] = $4; F[$1, $2] = $5 }
    END {
        printf "%d interleaved rounds (integer ISA path: %s): median [min..max]\n", rounds, isa
        printf "%-7s %-27s %-22s %-24s %-22s %-27s %-22s\n", "quant", "prefill tok/s", "vs fp32",
               "forward us (median)", "vs fp32", "decode tok/s", "vs fp32"
        nq = split(quants, qs, " ")
        for (i = 1; i <= nq; i++) { q = qs[i]
            for (r = 0; r < rounds; r++) { p[r + 1] = P[r, q]; d[r + 1] = D[r, q]; f[r + 1] = F[r, q]
                rp[r + 1] = P[r, q] / P[r, "fp32"]; rd[r + 1] = D[r, q] / D[r, "fp32"]
                rf[r + 1] = F[r, "fp32"] / F[r, q] }
            mp = med(p, rounds); lp = p[1]; hp = p[rounds]
            md = med(d, rounds); ld = d[1]; hd = d[rounds]
            mf = med(f, rounds); lf = f[1]; hf = f[rounds]
            mrp = med(rp, rounds); lrp = rp[1]; hrp = rp[rounds]
            mrd = med(rd, rounds); lrd = rd[1]; hrd = rd[rounds]
            mrf = med(rf, rounds); lrf = rf[1]; hrf = rf[rounds]
            printf "%-7s %8.0f [%7.0f..%7.0f] %5.2fx [%4.2f..%4.2f]  %6.1f [%6.1f..%6.1f]  %5.2fx [%4.2f..%4.2f]  %8.0f [%7.0f..%7.0f] %5.2fx [%4.2f..%4.2f]\n",
                   q, mp, lp, hp, mrp, lrp, hrp, mf, lf, hf, mrf, lrf, hrf, md, ld, hd, mrd, lrd, hrd }
    }' "$OUT"
