#!/bin/sh
# CLI tests of `itera profile` and `itera scan`: the per-op table, --json parsed back with
# python3, --trace parsed back and checked, bad flags exit 2. One line per case; exit 1 on
# any failure.
BUILD=${BUILD:-build}
ITERA="$BUILD/itera"
TMP=$(mktemp -d /tmp/itera-prof-XXXXXX)
trap 'rm -rf "$TMP"' EXIT
. tests/cli_lib.sh
# check NAME CMD...: CMD must exit 0
check() {
    name=$1; shift
    if out=$("$@" 2>&1); then pass=$((pass + 1)); echo "ok   $name"
    else fail=$((fail + 1)); echo "FAIL $name"; printf '%s\n' "$out" | tail -5; fi
}

expect 0 "usage: itera profile" "$ITERA" profile --help
expect 0 "usage: itera scan" "$ITERA" scan --help
expect 0 "scan.state_transition" "$ITERA" profile --seq 16 --reps 2
expect 0 "kernel=chunked" "$ITERA" profile --seq 32 --batch 2 --threads 2 --kernel chunked --reps 2
expect 0 "gap_us=" "$ITERA" profile --seq 8 --reps 1
expect 0 "zone_overhead_ns=" "$ITERA" profile --seq 8 --reps 1
expect 0 "json=$TMP/p.json" "$ITERA" profile --seq 16 --reps 3 --threads 2 --json "$TMP/p.json" --trace "$TMP/t.json"
check "profile --json parses, fields present" python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
for k in ("model", "kernel", "threads", "seq", "batch", "reps", "forward_us", "gap_us", "zone_overhead_ns",
          "zone_pair_ns", "profiling_overhead_pct", "ops"):
    assert k in d, k
names = {o["name"] for o in d["ops"]}
for n in ("forward", "in_proj", "scan", "scan.input_projection", "lm_head", "experts", "router"):
    assert n in names, n
for o in d["ops"]:
    assert o["calls"] > 0 and o["total_us"] >= 0 and o["min_us"] <= o["max_us"], o
fwd = [o for o in d["ops"] if o["name"] == "forward"][0]
assert fwd["calls"] == 3 and abs(fwd["pct_of_forward"] - 100) < 1e-6
assert d["seq"] == 16 and d["threads"] == 2 and d["reps"] == 3
' "$TMP/p.json"
check "profile --trace is Chrome trace JSON" python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
ev = [e for e in d["traceEvents"] if e["ph"] == "X"]
assert len(ev) > 20
for e in ev:
    for k in ("name", "ts", "dur", "pid", "tid"):
        assert k in e, (k, e)
    assert e["dur"] >= 0 and e["ts"] >= 0
fw = [e for e in ev if e["name"] == "forward"]
assert len(fw) == 1, "one forward"
f = fw[0]
for e in ev:
    if e["tid"] == 0:
        assert f["ts"] - 0.01 <= e["ts"] and e["ts"] + e["dur"] <= f["ts"] + f["dur"] + 0.01, e
' "$TMP/t.json"
check "no .tmp left behind" sh -c "! ls '$TMP'/*.tmp 2>/dev/null"
expect 2 "--seq: 'x' is not an integer" "$ITERA" profile --seq x
expect 2 "--reps: '0' is not an integer" "$ITERA" profile --reps 0
expect 2 "--batch: '-1' is not an integer" "$ITERA" profile --batch -1
expect 2 "exceeds the model's max_seq_length" "$ITERA" profile --seq 4096
expect 2 "--kernel: 'fast' is not one of" "$ITERA" profile --kernel fast
expect 2 "bad option '--bogus'" "$ITERA" profile --bogus
expect 2 "unexpected argument 'extra'" "$ITERA" profile extra
expect 2 "--json: /nonexistent-dir/p.json: cannot write" "$ITERA" profile --seq 4 --reps 1 --json /nonexistent-dir/p.json
expect 2 "--trace:" "$ITERA" profile --seq 4 --reps 1 --trace /nonexistent-dir/t.json
expect 0 "speedup=" "$ITERA" scan --channels 32 --state 8 --seq 16 --batch 2 --reps 3
expect 0 "kernel=parallel" "$ITERA" scan --channels 32 --state 8 --seq 16 --batch 2 --threads 2 --kernel parallel --reps 3
expect 0 "chunk=5" "$ITERA" scan --channels 32 --state 8 --seq 16 --kernel chunked --chunk 5 --reps 3
expect 0 "(auto)" "$ITERA" scan --channels 32 --state 8 --seq 16 --kernel auto --reps 3
expect 2 "--channels: '0' is not an integer" "$ITERA" scan --channels 0
expect 2 "--state: 'n' is not an integer" "$ITERA" scan --state n
expect 2 "--chunk: '0' is not an integer" "$ITERA" scan --chunk 0
expect 2 "--kernel: 'fast' is not one of" "$ITERA" scan --kernel fast
expect 2 "bad option '--model'" "$ITERA" scan --model x
expect 2 "scan shape:" "$ITERA" scan --channels 65536 --batch 4096 --seq 1048576

finish "profile/scan CLI"
