#!/bin/sh
# Kill-and-resume: start `itera-bench run` on a tiny profile, kill -9 it once the first
# cell is in the journal (and leave a half-written line, as a kill mid-write would),
# then `--resume`: the final file must be valid Google Benchmark JSON with every cell
# exactly once, the journaled cell kept (not run again), and GB's compare.py must read
# it when it is installed. Needs python3 (or jq) to read JSON; skips without either.
set -u
BUILD=${BUILD:-build}
BIN="$BUILD/itera-bench"
say() { echo "resume.sh: $*"; }
fail() { say "FAIL: $*"; exit 1; }
[ -x "$BIN" ] || fail "$BIN not built"
if command -v python3 >/dev/null 2>&1; then JSON=python3
elif command -v jq >/dev/null 2>&1; then JSON=jq
else say "SKIPPED: needs python3 or jq to read JSON"; exit 0; fi

T=$(mktemp -d /tmp/itera-resume-XXXXXX)
trap "rm -rf $T" EXIT
cat > "$T/tiny.ini" <<'INI'
[profile]
description = kill-and-resume test: 5 small cells
families    = prefill, decode
kernels     = sequential, parallel
decode_kernels = sequential
quants      = fp32
seq         = 16, 32
batch       = 1
threads     = 1
steps       = 4
repetitions = 2
min_time    = 0.2
INI
OUT="$T/out/r.json"
J="$OUT.journal"
NCELLS=5

"$BIN" run --platform embedded --profile "$T/tiny.ini" --out "$OUT" >"$T/run1.out" 2>"$T/run1.err" &
pid=$!
i=0
while :; do
    lines=$( [ -f "$J" ] && wc -l <"$J" || echo 0 )
    [ "$lines" -ge 2 ] && break
    kill -0 "$pid" 2>/dev/null || { cat "$T/run1.err"; fail "the run ended before its first cell was journaled"; }
    i=$((i + 1)); [ $i -gt 1200 ] && { kill -9 "$pid"; fail "no cell journaled within 60 s"; }
    sleep 0.05
done
kill -9 "$pid" 2>/dev/null
wait "$pid" 2>/dev/null
[ -f "$OUT" ] && fail "the final file exists although the run was killed (cells too fast?)"
done1=$(($(wc -l <"$J") - 1))
say "killed after $done1 of $NCELLS cells were journaled"
[ "$done1" -ge 1 ] && [ "$done1" -lt "$NCELLS" ] || fail "expected 1..$((NCELLS - 1)) journaled cells, got $done1"
printf '{"cell":"prefill/fp32/half-writ' >>"$J"   # a write cut short by the kill

t0=$(date +%s%N)
"$BIN" run --resume --platform embedded --profile "$T/tiny.ini" --out "$OUT" >"$T/run2.out" 2>"$T/run2.err"
rc=$?
resume_ms=$(( ($(date +%s%N) - t0) / 1000000 ))
[ $rc -eq 0 ] || { cat "$T/run2.err"; fail "--resume exited $rc"; }
grep -q "resuming .*: $done1 of $NCELLS cells done" "$T/run2.err" || { cat "$T/run2.err"; fail "--resume did not report the journaled cells"; }
grep -qx "results: $OUT" "$T/run2.out" || fail "--resume did not print the results path"
started=$(grep -c '^\[' "$T/run2.err")
[ "$started" -eq $((NCELLS - done1)) ] || fail "--resume ran $started cells, expected $((NCELLS - done1))"

if [ "$JSON" = python3 ]; then
python3 - "$OUT" "$J" "$NCELLS" <<'PY' || fail "final file check failed"
import json, sys
out, journal, ncells = sys.argv[1], sys.argv[2], int(sys.argv[3])
d = json.load(open(out))
assert d["context"]["itera_profile"] == "tiny" and d["context"]["itera_missing_cells"] == "0"
names = [b["run_name"] for b in d["benchmarks"]]
cells = list(dict.fromkeys(names))
assert len(cells) == ncells, cells
for c in cells:
    it = [b for b in d["benchmarks"] if b["run_name"] == c and b["run_type"] == "iteration"]
    ag = sorted(b["aggregate_name"] for b in d["benchmarks"] if b["run_name"] == c and b["run_type"] == "aggregate")
    assert len(it) == 2 and sorted(b["repetition_index"] for b in it) == [0, 1], (c, it)
    assert ag == ["cv", "mean", "median", "stddev"], (c, ag)
    assert all("error_occurred" not in b and b["tokens_per_second"] > 0 for b in it), c
    if c.startswith("prefill/"):
        assert c in d["itera_op_profile"], c
# the journaled cell was kept, not run again
lines = [l for l in open(journal).read().split("\n") if l]
first = json.loads(lines[1])
kept = [b for b in d["benchmarks"] if b["run_name"] == first["cell"]]
assert kept == first["runs"], "journaled cell differs in the final file"
lines = [json.loads(l) for l in lines]   # every line complete after the resume
assert len(lines) == 1 + ncells, len(lines)
PY
else
    n=$(jq '[.benchmarks[].run_name] | unique | length' "$OUT") || fail "final file is not JSON"
    [ "$n" -eq "$NCELLS" ] || fail "$n cells in the final file, expected $NCELLS"
    n=$(jq '[.benchmarks[] | select(.run_type == "iteration")] | length' "$OUT")
    [ "$n" -eq $((NCELLS * 2)) ] || fail "$n iteration runs, expected $((NCELLS * 2))"
fi

PYSCI=""
for p in python3 /usr/bin/python3; do
    command -v "$p" >/dev/null 2>&1 && "$p" -c 'import scipy' 2>/dev/null && { PYSCI=$p; break; }
done
if [ -f /usr/share/benchmark/compare.py ] && [ -n "$PYSCI" ]; then
    "$PYSCI" /usr/share/benchmark/compare.py benchmarks "$OUT" "$OUT" >"$T/cmp.out" 2>&1 ||
        { cat "$T/cmp.out"; fail "Google Benchmark's compare.py could not read the file"; }
    grep -q "prefill/fp32/sequential/seq:16/batch:1/threads:1" "$T/cmp.out" || fail "compare.py output lacks the cells"
    say "compare.py reads the file"
else
    say "note: Google Benchmark's compare.py (libbenchmark-tools + python3-scipy) not installed; not tried"
fi
say "ok: killed after $done1 cell(s), resumed, $NCELLS cells exactly once"

# ---- Kill anywhere: a bounded loop of kill -9 at random moments of a run and of each
# --resume after it (the final write included: the moments spread over the whole run and a
# little past it). After every kill the results file is absent or complete and the journal
# holds whole lines (a partial last one at most); at the end every cell is in the file
# exactly once, and every cell any kill left in the journal is kept as it was journaled.
# RESUME_SEED=S replays one sequence of kill moments (the seed is printed).
[ "$JSON" = python3 ] || { say "SKIPPED kill-anywhere: needs python3"; exit 0; }
OUT="$T/any/r.json"; J="$OUT.journal"
dur_ms=$(( resume_ms * NCELLS / (NCELLS - done1) ))   # a whole run, from the resume above
SEED=${RESUME_SEED:-$(od -An -N2 -tu2 /dev/urandom | tr -d ' ')}
KILLS=${RESUME_KILLS:-6}
# moments: uniform over the clean run and 10% past it; every third one early (the first
# 15%), where a --resume spends its time reading the journal and reopening it
moments=$(awk -v s="$SEED" -v n="$KILLS" -v d="$dur_ms" 'BEGIN { srand(s); for (i = 0; i < n; i++) printf "%d ", rand() * d * (i % 3 == 2 ? 0.15 : 1.1) }')
say "kill-anywhere: seed $SEED, a whole run takes about $dur_ms ms, kills at (ms into each run): $moments"
# final_check: every cell exactly once, every cell line of the snapshots kept as journaled
final_check() {
    python3 - "$OUT" "$NCELLS" "$T/snap" <<'PY' || fail "kill-anywhere: final check failed (seed $SEED)"
import json, os, sys
out, n, snaps = sys.argv[1], int(sys.argv[2]), sys.argv[3]
d = json.load(open(out))
runs = {}
for b in d["benchmarks"]:
    runs.setdefault(b["run_name"], []).append(b)
assert len(runs) == n, sorted(runs)
for c, rs in runs.items():
    it = sorted(b["repetition_index"] for b in rs if b["run_type"] == "iteration")
    assert it == [0, 1], (c, it)       # each cell exactly once: its two repetitions
kept = 0
for f in sorted(os.listdir(snaps)):
    for l in open(os.path.join(snaps, f), "rb").read().split(b"\n")[1:]:
        try:
            e = json.loads(l)
        except ValueError:
            continue                   # the partial last line of a killed write
        got = [{k: v for k, v in b.items() if k != "family_index"} for b in runs[e["cell"]]]
        want = [{k: v for k, v in b.items() if k != "family_index"} for b in e["runs"]]
        assert got == want, "journaled cell %s was not kept as journaled" % e["cell"]
        kept += 1
print(kept)
PY
}
# Rounds: a fresh run, then --resume after each kill; a round ends when a run finishes
# before its kill (its file is then checked and the next round starts afresh).
k=0; rounds=0; kept=0; resume=""
rm -rf "$T/snap"; mkdir -p "$T/snap"
for ms in $moments; do
    "$BIN" run $resume --platform embedded --profile "$T/tiny.ini" --out "$OUT" >/dev/null 2>"$T/any.err" &
    pid=$!
    sleep "$(awk -v m="$ms" 'BEGIN { printf "%.3f", m / 1000 }')"
    kill -9 "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
    rc=$?
    k=$((k + 1))
    [ -f "$J" ] && cp "$J" "$T/snap/$k"
    python3 - "$OUT" "$J" "$NCELLS" <<'PY' || { cat "$T/any.err"; fail "kill-anywhere: after kill $k (at $ms ms, seed $SEED): state check failed"; }
import json, os, sys
out, journal, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
if os.path.exists(out):
    d = json.load(open(out))          # never a partial results file
    assert len({b["run_name"] for b in d["benchmarks"]}) == n
if os.path.exists(journal):
    lines = open(journal, "rb").read().split(b"\n")
    for l in lines[:-1]:              # every line but a partial last one is whole
        json.loads(l)
PY
    resume=--resume
    if [ $rc -eq 0 ] && [ -f "$OUT" ]; then  # this run finished before its kill
        kept=$((kept + $(final_check))); rounds=$((rounds + 1))
        rm -rf "$OUT" "$J" "$T/snap"; mkdir -p "$T/snap"; resume=""
    fi
done
if [ -n "$resume" ]; then
    "$BIN" run --resume --platform embedded --profile "$T/tiny.ini" --out "$OUT" >/dev/null 2>"$T/any.err" ||
        { cat "$T/any.err"; fail "kill-anywhere: the last --resume failed (seed $SEED)"; }
    kept=$((kept + $(final_check))); rounds=$((rounds + 1))
fi
say "kill-anywhere: $kept journaled cell lines seen at the kills, all kept as journaled"
say "ok: kill-anywhere: $k kills over $rounds run(s) to completion (seed $SEED), every cell exactly once, every journaled cell kept"
