#!/bin/sh
# What `itera-bench run` prints, on a small real sweep:
# - not on a terminal: one plain line per finished cell on stderr, Google Benchmark's own
#   lines only in the log beside the results (and on stderr with --verbose), and stdout
#   ending with the summary table whose numbers are the results file's (both parsed:
#   medians of the iteration runs, MAD, latency, speed-ups, accuracy), every line within
#   100 columns, then the results and log paths;
# - on a terminal (through script(1), where present): one line rewritten in place;
# - --benchmark_filter: exit 0, the filter and the cells it left out in the results;
# - SIGINT midway: exit 1, the cells kept and the exact resume command, no results file;
#   that command then completes the file.
set -u
BUILD=${BUILD:-build}
BIN="$BUILD/itera-bench"
say() { echo "run_output.sh: $*"; }
fail() { say "FAIL: $*"; exit 1; }
[ -x "$BIN" ] || fail "$BIN not built"
command -v python3 >/dev/null 2>&1 || { say "SKIPPED: needs python3 to read JSON"; exit 0; }
T=$(mktemp -d /tmp/itera-output-XXXXXX)
trap 'rm -rf "$T"' EXIT
cat >"$T/small.ini" <<'INI'
[profile]
description    = output test: every family, two kernels, two quants, small
families       = scan, prefill, decode
kernels        = sequential, parallel
decode_kernels = sequential
quants         = fp32, int8
seq            = 16
batch          = 1
threads        = 1
steps          = 4
repetitions    = 3
min_time       = 0.01
scan_channels  = 32
scan_state     = 16
scan_seq       = 64
scan_batch     = 2
INI
NCELLS=8

# ---- not a terminal ----
OUT="$T/r/small.json"
"$BIN" run --platform embedded --profile "$T/small.ini" --out "$OUT" >"$T/out" 2>"$T/err" </dev/null
rc=$?
[ $rc -eq 0 ] || { cat "$T/err"; fail "run exited $rc"; }
[ "$(grep -c '^\[[0-9]*/8\] ' "$T/err")" -eq $NCELLS ] || { cat "$T/err"; fail "expected one [i/8] line per cell on stderr"; }
i=1
grep '^\[[0-9]*/8\] ' "$T/err" | while read -r n name rest; do
    [ "$n" = "[$i/8]" ] || fail "progress lines not numbered in order: $n $name"
    echo "$rest" | grep -q "tokens/s [0-9,]* ± [0-9.]*%" || fail "no headline figure: $n $name $rest"
    i=$((i + 1))
done || exit 1
grep -q "real_time\|Iterations" "$T/err" "$T/out" && fail "Google Benchmark's per-run lines are not in the log only"
[ -f "$T/r/small.log" ] || fail "no log beside the results ($T/r/small.log)"
[ "$(grep -c '/real_time ' "$T/r/small.log")" -ge $((NCELLS * 3)) ] || fail "the log lacks GB's per-repetition lines"
tail -n 2 "$T/out" | head -n 1 | grep -qx "results: $OUT" || fail "stdout does not end with the results path"
tail -n 1 "$T/out" | grep -qx "log:     $T/r/small.log" || fail "stdout does not end with the log path"
python3 - "$OUT" "$T/out" <<'PY' || fail "the summary table does not match the results file"
import json, re, sys
res, out = sys.argv[1], sys.argv[2]
lines = open(out, encoding="utf-8").read().split("\n")
for l in lines:
    assert len(l) <= 100, ("wider than 100 columns", l)
d = json.load(open(res))
runs = {}
for b in d["benchmarks"]:
    if b["run_type"] == "iteration" and not b.get("error_occurred"):
        runs.setdefault(b["run_name"], []).append(b)
def med(v):
    v = sorted(v); n = len(v)
    return v[n // 2] if n % 2 else 0.5 * (v[n // 2 - 1] + v[n // 2])
def fig(name, key):
    v = [r[key] for r in runs[name]]
    m = med(v)
    return m, med([abs(x - m) for x in v])
def rate(name):
    m, mad = fig(name, "tokens_per_second")
    return "{:,} ± {:.1f}%".format(int("%.0f" % m), 100 * mad / m)
def latency(name):
    m = fig(name, "latency_ms")[0]
    v, unit = (m, "ms") if m >= 1 else (m * 1e3, "µs")
    s = "%.0f" % v if v >= 100 else "%.1f" % v if v >= 10 else "%.2f" % v
    return s + " " + unit
m = re.search(r"scan: C(\d+) channels, N(\d+) state", "\n".join(lines))
assert m, "no scan shape line"
C, N = m.group(1), m.group(2)
head = [i for i, l in enumerate(lines) if l.startswith("test ")]
assert len(head) == 1, "no table header"
rows = []
for l in lines[head[0] + 1:]:
    if l.startswith(("scan ", "prefill ", "decode ")):
        rows.append(re.split(r"\s{2,}", l.strip()))
    elif l.strip() and not rows:
        raise AssertionError("unexpected line in the table: " + l)
assert len(rows) == 8, ("rows", len(rows))
def name_of(test, quant, kernel, thr):
    t = test.split()
    if t[0] == "scan":
        return "scan/%s/channels:%s/state:%s/seq:%s/batch:%s/threads:%s" % (kernel, C, N, t[1][1:], t[2][1:], thr)
    if t[0] == "prefill":
        return "prefill/%s/%s/seq:%s/batch:%s/threads:%s" % (quant, kernel, t[1][1:], t[2][1:], thr)
    return "decode/%s/%s/steps:%s/batch:%s/threads:%s" % (quant, kernel, t[1], t[2][1:], thr)
seen = set()
for r in rows:
    assert len(r) == 9, r
    test, quant, kernel, thr, tps, lat, speed, top1, err = r
    name = name_of(test, quant, kernel, thr)
    assert name in runs, ("row names no cell of the file", name)
    seen.add(name)
    assert tps == rate(name), (name, tps, rate(name))
    assert lat == latency(name), (name, lat, latency(name))
    base = None
    if name.startswith("scan/") and kernel != "sequential":
        base, vs = name.replace("/" + kernel + "/", "/sequential/"), "seq"
    elif not name.startswith("scan/") and quant != "fp32":
        base, vs = name.replace("/" + quant + "/", "/fp32/"), "fp32"
    elif not name.startswith("scan/") and kernel != "sequential":
        base, vs = name.replace("/" + kernel + "/", "/sequential/"), "seq"
    if base:
        want = "%.2f× %s" % (fig(name, "tokens_per_second")[0] / fig(base, "tokens_per_second")[0], vs)
        assert speed == want, (name, speed, want)
    else:
        assert speed == "-", (name, speed)
    if quant == "int8":
        assert top1 == "%.3f" % fig(name, "top1_agreement")[0], (name, top1)
        assert err == "%.1e" % fig(name, "max_abs_logit_err")[0], (name, err)
    else:
        assert top1 == "-" and err == "-", (name, top1, err)
assert len(seen) == 8
print("run_output.sh: summary: 8 rows match the results file")
PY

# --verbose: GB's lines on stderr too
"$BIN" run --platform embedded --profile "$T/small.ini" --out "$T/v/v.json" --verbose \
    --benchmark_filter=decode/fp32 >"$T/vout" 2>"$T/verr" </dev/null || fail "--verbose run failed"
grep -q "decode/fp32/sequential/steps:4/batch:1/threads:1/real_time " "$T/verr" || fail "--verbose does not show GB's lines"

# ---- on a terminal ----
if command -v script >/dev/null 2>&1 && script -qc true /dev/null >/dev/null 2>&1; then
    COLUMNS=100 script -qc "$BIN run --platform embedded --profile $T/small.ini --out $T/t/t.json" "$T/tty" >/dev/null 2>&1 </dev/null ||
        fail "run on a terminal failed"
    grep -q "$(printf '\r')\[3/8\] " "$T/tty" || fail "no live line rewritten with \\r on a terminal"
    [ "$(grep -c '^\[[0-9]*/8\] ' "$T/tty")" -eq 0 ] || fail "plain per-cell lines on a terminal"
    grep -q "^test  *quant  *kernel" "$T/tty" || fail "no summary on a terminal"
else
    say "note: script(1) not usable here: the terminal form not tried"
fi

# ---- --benchmark_filter: a deliberate selection, exit 0 ----
F="$T/f/f.json"
"$BIN" run --platform embedded --profile "$T/small.ini" --out "$F" --benchmark_filter='^prefill/int8' >"$T/fout" 2>"$T/ferr" </dev/null
rc=$?
[ $rc -eq 0 ] || { cat "$T/ferr"; fail "a filtered run exited $rc, expected 0"; }
grep -q "2 of the 8 cells selected, 6 filtered out" "$T/ferr" || fail "the filtered run does not say what it selected"
python3 - "$F" <<'PY' || fail "the filtered run's results do not record the filter"
import json, sys
d = json.load(open(sys.argv[1]))
c = d["context"]
assert c["itera_filter"] == "^prefill/int8" and c["itera_cells_selected"] == "2", c
assert c["itera_cells_filtered_out"] == "6" and c["itera_missing_cells"] == "0", c
ran = sorted({b["run_name"] for b in d["benchmarks"]})
assert ran == ["prefill/int8/parallel/seq:16/batch:1/threads:1", "prefill/int8/sequential/seq:16/batch:1/threads:1"], ran
out = d["itera_filtered_out"]
assert len(out) == 6 and not set(out) & set(ran), out
assert all(not n.startswith("prefill/int8") for n in out), out
PY

# ---- interrupted midway: exit 1, cells kept, the resume command ----
K="$T/k/k.json"
"$BIN" run --platform embedded --profile "$T/small.ini" --out "$K" --set min_time=0.2 >"$T/kout" 2>"$T/kerr" </dev/null &
pid=$!
n=0
while :; do
    [ -f "$K.journal" ] && [ "$(wc -l <"$K.journal")" -ge 2 ] && break
    kill -0 $pid 2>/dev/null || { cat "$T/kerr"; fail "the run ended before a cell was journaled"; }
    n=$((n + 1)); [ $n -gt 1200 ] && { kill -9 $pid; fail "no cell journaled within 60 s"; }
    sleep 0.05
done
kill -INT $pid
wait $pid
rc=$?
[ $rc -eq 1 ] || { cat "$T/kerr"; fail "an interrupted run exited $rc, expected 1"; }
[ -f "$K" ] && fail "an interrupted run wrote the results file"
kept=$(($(wc -l <"$K.journal") - 1))
grep -q "interrupted: $kept of 8 cells kept in $K.journal" "$T/kerr" || { cat "$T/kerr"; fail "no count of the cells kept"; }
cmd=$(sed -n 's/.*; resume with: //p' "$T/kerr")
[ -n "$cmd" ] || fail "no resume command"
echo "$cmd" | grep -q -- "--resume" || fail "the resume command lacks --resume: $cmd"
sh -c "$cmd" >"$T/k2out" 2>"$T/k2err" </dev/null || { cat "$T/k2err"; fail "the printed resume command failed: $cmd"; }
grep -q "resuming $K.journal: $kept of 8 cells done" "$T/k2err" || fail "the resume did not keep the $kept cells"
python3 -c "
import json, sys
d = json.load(open('$K'))
assert len({b['run_name'] for b in d['benchmarks']}) == 8 and d['context']['itera_missing_cells'] == '0'
" || fail "the resumed file is not complete"
say "ok: plain lines, log, summary = results, terminal line, filter exit 0, interrupt exit 1 + resume"
