#!/bin/sh
# CLI test of `itera-bench ab`, `noise` and `compare --variants` (measuring), end to end on
# two tiny builds: a scratch git repository whose two commits "build" (make build) by
# copying this tree's itera-bench, with the platform and a tiny profile (2 scan cells,
# min_time 0.01 s). ab checks both out with git worktree, builds each, runs 3 interleaved
# rounds and compares. Asserted: the session's files (both sides valid Google Benchmark
# JSON with one run per round, the schedule with its seed, the comparison), the same seed
# giving the same order, verdicts from the four words, exit codes (0, 1 for a failed
# build, 2 for bad revisions/flags or a side without `run --serve`), the noise file.
# Timings here are not judged: the machine may be busy (contended verdicts are fine).
set -u
. tests/cli_lib.sh
BUILD=${BUILD:-build}
IB="$(cd "$(dirname "$BUILD/itera-bench")" && pwd)/itera-bench"
if [ ! -x "$IB" ]; then
    echo "SKIPPED: $IB is not built"
    exit 0
fi
if ! command -v git >/dev/null 2>&1; then
    echo "SKIPPED: git is not installed (ab checks revisions out with git worktree)"
    exit 0
fi
PY=$(command -v python3 || true)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
here=$(pwd)

# the scratch repository: two commits, each "built" by copying this itera-bench
repo="$tmp/repo"
mkdir -p "$repo/platforms" "$repo/profiles"
cp platforms/embedded.ini "$repo/platforms/"
cat >"$repo/profiles/tiny.ini" <<'EOF'
[profile]
description   = tiny: the ab test's two scan cells
families      = scan
kernels       = sequential, chunked
threads       = 1
repetitions   = 1
min_time      = 0.01
scan_channels = 8
scan_state    = 4
scan_seq      = 16
scan_batch    = 1
EOF
printf 'build:\n\tmkdir -p build && cp "$$AB_TEST_BIN" build/itera-bench\n' >"$repo/Makefile"
echo "build/" >"$repo/.gitignore"
export AB_TEST_BIN="$IB"
(
    cd "$repo" && git init -q && git config user.email t@t && git config user.name t &&
        git add -A && git commit -qm base && echo change >>profiles/tiny.ini.txt &&
        git add -A && git commit -qm new
) || { echo "FAIL: could not make the scratch repository"; exit 1; }

cd "$repo"
S1="$tmp/s1"
expect 0 "Interleaved A/B (session" "$IB" ab --base HEAD~1 --new HEAD --profile tiny --rounds 3 \
    --extra-rounds 0 --decide-rounds 0 --seed 7 --out "$S1" --json "$tmp/s1.json"
for f in base.json new.json ab.json compare.md compare.json rounds/base-000.json rounds/new-002.json \
    workers.log build-base.log; do
    if [ -f "$S1/$f" ]; then pass=$((pass + 1)); else fail=$((fail + 1)); echo "FAIL: no $S1/$f"; fi
done
if [ -f "$tmp/s1.json" ]; then pass=$((pass + 1)); else fail=$((fail + 1)); echo "FAIL: --json"; fi
# both revisions were checked out in their own worktree and built there
n=$(ls -d build/ab/src/* 2>/dev/null | wc -l)
if [ "$n" -eq 2 ]; then pass=$((pass + 1)); else fail=$((fail + 1)); echo "FAIL: $n worktrees"; fi

if [ -n "$PY" ]; then
    check_py() { # check_py WHAT PYTHON-SOURCE (exit status decides)
        if "$PY" -c "$2" "$S1" "$tmp"; then pass=$((pass + 1)); echo "ok   $1"
        else fail=$((fail + 1)); echo "FAIL $1"; fi
    }
    check_py "both sides: Google Benchmark JSON, one run per round, one session" '
import json, sys
d = sys.argv[1]
b, n = (json.load(open(d + "/" + s + ".json")) for s in ("base", "new"))
for side, f in (("base", b), ("new", n)):
    assert f["context"]["itera_ab_side"] == side
    runs = [x for x in f["benchmarks"] if x["run_type"] == "iteration"]
    assert len(runs) == 6, len(runs)
    for x in runs:
        assert x["real_time"] > 0 and x["time_unit"] and x["iterations"] >= 1
        assert x["repetitions"] == 3 and x["contended"] in (0, 1)
        assert "load_other_cpu" in x
    assert sorted({x["repetition_index"] for x in runs}) == [0, 1, 2]
assert b["context"]["itera_ab_session"] == n["context"]["itera_ab_session"]
assert b["context"]["itera_ab_seed"] == "0x0000000000000007"
'
    check_py "the schedule: every round, every pair, who went first" '
import json, sys
m = json.load(open(sys.argv[1] + "/ab.json"))
assert m["seed"] == "0x0000000000000007" and m["rounds_run"] == 3
assert len(m["schedule"]) == 3 and len(m["pairs"]) == 2
for r in m["schedule"]:
    assert r["started_first"] in ("base", "new")
    assert sorted(o["pair"] for o in r["order"]) == [0, 1]
    for o in r["order"]:
        assert o["first"] in ("base", "new") and o["base"]["ok"] and o["new"]["ok"]
'
    check_py "round 1 estimates the iteration count, later rounds run the count that fills min_time" '
import json, sys
d = sys.argv[1]
m = json.load(open(d + "/ab.json"))
fit = {}
for r in m["schedule"]:
    for o in r["order"]:
        assert o["fixed_iterations"] == (r["round"] > 0), (r["round"], o)
        assert o["base"]["iterations"] >= 1 and o["new"]["iterations"] >= 1
        if r["round"] == 0:
            fit[o["pair"]] = (o["base"]["fit_iterations"], o["new"]["fit_iterations"])
        else:
            assert (o["base"]["iterations"], o["new"]["iterations"]) == fit[o["pair"]], (o, fit)
for i, p in enumerate(m["pairs"]):
    assert (p["base_iterations"], p["new_iterations"]) == fit[i], (p, fit)
    assert p["base_estimated_iterations"] >= 1 and p["new_estimated_iterations"] >= 1
    assert p["iterations_rule"] == "fills min_time at round 1\x27s speed", p
for side in ("base", "new"):
    f = json.load(open(d + "/" + side + ".json"))
    its = {}
    for x in f["benchmarks"]:
        if x["repetition_index"] > 0:
            its.setdefault(x["run_name"], set()).add(x["iterations"])
    assert all(len(v) == 1 for v in its.values()), its
    assert "the count that fills min_time at the first round" in f["context"]["itera_ab_note"]
'
    check_py "the comparison: paired, verdicts from the four words" '
import json, sys
c = json.load(open(sys.argv[2] + "/s1.json"))
assert c["pairing"] == "paired by round"
assert len(c["benchmarks"]) == 2
for b in c["benchmarks"]:
    assert b["verdict"] in ("faster", "slower", "no_change", "contended"), b["verdict"]
s = c["summary"]
assert s["faster"] + s["slower"] + s["no_change"] + s["contended"] == 2
assert c["base"]["fingerprint"]["itera_machine"]
'
    # the same seed, the same order (a new session folder)
    "$IB" ab --base HEAD~1 --new HEAD --profile tiny --rounds 3 --extra-rounds 0 --decide-rounds 0 --seed 7 \
        --out "$tmp/s2" >/dev/null 2>&1
    check_py "the same seed gives the same order" '
import json, sys
a = json.load(open(sys.argv[1] + "/ab.json"))["schedule"]
b = json.load(open(sys.argv[2] + "/s2/ab.json"))["schedule"]
key = lambda s: [(r["started_first"], [(o["pair"], o["first"]) for o in r["order"]]) for r in s]
assert key(a) == key(b)
'
fi

# a gate no A/A can fail; compare reads the session's files again, paired
expect 0 "Gate passed" "$IB" compare --fail-above 1000 "$S1/base.json" "$S1/new.json"
expect 0 "Interleaved A/B (session" "$IB" compare "$S1/base.json" "$S1/new.json"

# deciding rounds: with a threshold (100%) no interval here reaches, none; with a zero threshold
# (every interval that holds 1 straddles it) at most the 2 asked for, of undecided pairs only
S3="$tmp/s3"
expect 0 "+ up to 2 deciding" "$IB" ab --base HEAD~1 --new HEAD --profile tiny --rounds 3 \
    --extra-rounds 0 --decide-rounds 2 --noise-threshold 100 --seed 7 --out "$S3"
S4="$tmp/s4"
expect 0 "Interleaved A/B (session" "$IB" ab --base HEAD~1 --new HEAD --profile tiny --rounds 3 \
    --extra-rounds 0 --decide-rounds 2 --noise-threshold 0 --seed 7 --out "$S4"
if [ -n "$PY" ]; then
    check_py "deciding rounds: none when nothing straddles, at most N otherwise" '
import json, sys
t = sys.argv[2]
import math
a = json.load(open(t + "/s3/ab.json"))
side = {}
for sd in ("base", "new"):
    for x in json.load(open(t + "/s3/" + sd + ".json"))["benchmarks"]:
        side.setdefault((x["run_name"], x["repetition_index"]), {})[sd] = x["real_time"]
worst = max(abs(math.log(v["new"] / v["base"])) for v in side.values() if len(v) == 2)
# at 3 rounds the interval is the range of the log-ratios: inside the 100% band (log 2) when
# every one is; a busy machine can put one outside, and then a deciding round is right
if worst < math.log(2):
    assert a["rounds_run"] == 3 and a["decide_rounds_run"] == 0, (a["rounds_run"], a["decide_rounds_run"])
else:
    assert a["rounds_run"] == 3 + a["decide_rounds_run"] and a["decide_rounds_run"] <= 2
b = json.load(open(t + "/s4/ab.json"))
assert 0 <= b["decide_rounds_run"] <= 2 and b["rounds_run"] == 3 + b["decide_rounds_run"]
for r in b["schedule"][3:]:
    assert 1 <= len(r["order"]) <= 2
n = json.load(open(t + "/s4/new.json"))
assert n["context"]["itera_ab_rounds"] == str(b["rounds_run"])
'
fi

# the worker protocol: "run CELL ITERS" runs exactly ITERS iterations; a bad count or an
# unknown cell is answered with err, and the worker goes on
cell=scan/sequential/channels:8/state:4/seq:16/batch:1/threads:1
cell2=scan/chunked/channels:8/state:4/seq:16/batch:1/threads:1
out=$(printf 'run %s x\nrun %s 0\nrun nope 5\nrun %s 7\nrun %s\nquit\n' "$cell" "$cell" "$cell" "$cell2" |
    "$IB" run --profile tiny --set repetitions=1 --out "$tmp/serve.json" --serve 2>/dev/null)
check_out() { # check_out WHAT PATTERN
    if printf '%s\n' "$out" | grep -q -- "$2"; then pass=$((pass + 1)); echo "ok   serve: $1"
    else fail=$((fail + 1)); echo "FAIL serve: $1 (no '$2' in:"; printf '%s\n' "$out"; echo ")"; fi
}
check_out "a count that is not a number" "^err $cell x	the iteration count after the cell is not a whole number"
check_out "a zero count" "^err $cell 0	the iteration count"
check_out "an unknown cell" "^err nope	not a cell"
check_out "a fixed count is run and reported" "^ok $cell	.*	7	[1-9][0-9]*\$"
check_out "an estimated count is reported, and the count that fills min_time" "^ok $cell2	[01]	.*	[1-9][0-9]*	[1-9][0-9]*\$"
if [ -n "$PY" ] && "$PY" -c '
import json, math, sys
f = json.load(open(sys.argv[1]))
x = {b["run_name"]: b for b in f["benchmarks"]}[sys.argv[2]]
per_ns = x["real_time"] * {"ns": 1, "us": 1e3, "ms": 1e6, "s": 1e9}[x["time_unit"]]
want = max(1, math.ceil(float(f["context"]["itera_min_time"]) * 1e9 / per_ns))
got = int([l for l in sys.argv[3].splitlines() if l.startswith("ok " + sys.argv[2] + "\t")][0].split("\t")[-1])
assert abs(got - want) <= 1, (got, want)  # the worker rounds from the unrounded time
' "$tmp/serve.json" "$cell2" "$out"; then
    pass=$((pass + 1)); echo "ok   serve: the fitted count is ceil(min_time / time per iteration)"
elif [ -n "$PY" ]; then
    fail=$((fail + 1)); echo "FAIL serve: the fitted count is not ceil(min_time / time per iteration)"
fi
if [ -n "$PY" ] && "$PY" -c 'import json,sys; b={x["run_name"]: x for x in json.load(open(sys.argv[1]))["benchmarks"]}; assert b[sys.argv[2]]["iterations"] == 7, b' "$tmp/serve.json" "$cell"; then
    pass=$((pass + 1)); echo "ok   serve: the results file has the 7 iterations"
elif [ -n "$PY" ]; then
    fail=$((fail + 1)); echo "FAIL serve: the results file does not have the 7 iterations"
fi

# the time budget: no deciding round that would end past it (0.001 min: none starts), and
# ab.json says why the deciding rounds ended. Both pairs are sure to be undecided after 2
# rounds: with a zero noise threshold an interval either straddles it or lies beyond it, and
# no U test on 2 + 2 samples is significant; --contention off keeps a busy CI machine from
# marking them contended (unjudged, so never undecided).
expect 0 "ab: time budget: " "$IB" ab --base HEAD~1 --new HEAD --profile tiny --rounds 2 \
    --extra-rounds 0 --decide-rounds 5 --budget 0.001 --noise-threshold 0 --contention off \
    --seed 7 --out "$tmp/s2"
if [ -n "$PY" ] && "$PY" -c 'import json,sys; m=json.load(open(sys.argv[1])); assert m["decide_stop"] == "time budget" and m["decide_rounds_run"] == 0 and m["rounds_run"] == 2 and abs(m["budget_s"] - 0.06) < 1e-9, m["decide_stop"]' "$tmp/s2/ab.json"; then
    pass=$((pass + 1)); echo "ok   the budget stopped the deciding rounds, recorded in ab.json"
elif [ -n "$PY" ]; then
    fail=$((fail + 1)); echo "FAIL: ab.json does not record the budget's stop"
fi
# the profile's ab_budget_minutes (here through --set, as a profile line would give it)
# sets the budget when --budget is not given, and ab.json says where it came from
expect 0 "ab: time budget 0.001 min (ab_budget_minutes in " "$IB" ab --base HEAD~1 --new HEAD \
    --profile tiny --rounds 2 --extra-rounds 0 --decide-rounds 5 --set ab_budget_minutes=0.001 \
    --noise-threshold 0 --contention off --seed 7 --out "$tmp/s5"
if [ -n "$PY" ] && "$PY" -c 'import json,sys; m=json.load(open(sys.argv[1])); assert m["decide_stop"] == "time budget" and abs(m["budget_s"] - 0.06) < 1e-9 and m["budget_from"].startswith("ab_budget_minutes in ") and m["budget_from"].endswith("/profiles/tiny.ini"), m' "$tmp/s5/ab.json"; then
    pass=$((pass + 1)); echo "ok   the profile's ab_budget_minutes set the budget, recorded in ab.json"
elif [ -n "$PY" ]; then
    fail=$((fail + 1)); echo "FAIL: the profile's ab_budget_minutes did not set the budget"
fi
expect 0 "ab: no time budget (--budget)" "$IB" ab --base HEAD~1 --new HEAD --profile tiny \
    --rounds 2 --extra-rounds 0 --decide-rounds 1 --set ab_budget_minutes=0.001 --budget 0 \
    --noise-threshold 0 --contention off --seed 7 --out "$tmp/s6"
expect 2 "--budget 'x': expected minutes" "$IB" ab --base HEAD --new HEAD --budget x

# bad input: 2; a failed build: 1; a side without run --serve: 2
expect 2 "not a git revision" "$IB" ab --base no-such-rev --new HEAD --profile tiny --out "$tmp/x1"
expect 2 "ab needs both sides" "$IB" ab --base HEAD --profile tiny
expect 2 "--rounds '1'" "$IB" ab --base HEAD --new HEAD --rounds 1
expect 2 "--decide-rounds 'x': expected 0 to 1000" "$IB" ab --base HEAD --new HEAD --decide-rounds x
expect 2 "--set repetitions=3: ab runs one repetition per round" \
    "$IB" ab --base HEAD --new HEAD --set repetitions=3
printf 'build:\n\tfalse\n' >Makefile
git commit -qam broken
expect 1 "the build failed" "$IB" ab --base HEAD~1 --new HEAD --profile tiny --out "$tmp/x2"
printf 'build:\n\tmkdir -p build && printf "#!/bin/sh\\necho usage\\n" >build/itera-bench && chmod +x build/itera-bench\n' >Makefile
git commit -qam old-binary
expect 2 "has no \`run --serve\`" "$IB" ab --base HEAD~3 --new HEAD --profile tiny --out "$tmp/x3"

# noise: an A/A of this build; its file is what compare --noise reads
# (contention off: on a busy machine every pair would be contended and noise would rightly
# refuse to record anything; this test checks the plumbing, not this machine's noise)
expect 0 "Noise thresholds written to $tmp/noise.json" "$IB" noise --contention off \
    --profile "$repo/profiles/tiny.ini" --rounds 3 --extra-rounds 0 --out "$tmp/noise.json"
if [ -n "$PY" ] && "$PY" -c 'import json,sys; f=json.load(open(sys.argv[1]))["families"]["scan"]; assert f["benchmarks"] == 2 and f["threshold_pct"] >= 0.5' "$tmp/noise.json"; then
    pass=$((pass + 1))
elif [ -n "$PY" ]; then
    fail=$((fail + 1)); echo "FAIL: the noise file has no scan threshold"
fi
expect 0 "Noise threshold measured ($tmp/noise.json" "$IB" compare --noise "$tmp/noise.json" \
    "$S1/base.json" "$S1/new.json"
expect 2 "noise measures this build against itself" "$IB" noise --base HEAD

# compare --variants without a file measures them, interleaved, on this build
expect 0 "sequential→chunked" "$IB" compare --variants sequential,chunked \
    --profile "$repo/profiles/tiny.ini" --rounds 3 --extra-rounds 0 --out "$tmp/v"
expect 2 "measures" "$IB" compare --rounds 3 "$S1/base.json" "$S1/new.json"

cd "$here"
finish ab
