#!/bin/sh
# Fault injection, SQLite style: every file-system call a writer makes under the test folder
# (write, fsync, close, ftruncate, rename, mkdir: tests/faultinj.c, preloaded) is made to
# fail in turn, with ENOSPC and EIO alternately, for the four writers: the results file and
# the journal (itera-bench run), the report (itera-bench report) and the quantized model
# folder (itera quantize). A first clean run counts the calls; then for every N one run
# fails call N. Each such run must exit non-zero with a message naming a file under the test
# folder, and leave every final file either as it was before or complete and new (the new
# one only when the rename had already happened: the atomic writer's contract), never a
# partial or mixed file, and no temporary file behind; the journal must end after a whole
# line. Prints one line per writer with the points tried; exits 1 on any violation.
set -u
BUILD=${BUILD:-build}
BENCH="$BUILD/itera-bench"
ITERA="$BUILD/itera"
SHIM="$(pwd)/$BUILD/tests/libfaultinj.so"
say() { echo "faults.sh: $*"; }
[ -f "$SHIM" ] || { say "FAIL: $SHIM is not built"; exit 1; }
command -v python3 >/dev/null 2>&1 || { say "SKIPPED: needs python3 to check the files"; exit 0; }
T=$(mktemp -d /tmp/itera-faults-XXXXXX)
trap 'rm -rf "$T"' EXIT
D="$T/d"          # the folder whose calls fail
mkdir -p "$D"
bad=0
# Sanitizer runtimes must come first in the library list; the shim sits in front of them.
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0"

# faulty N LOG CMD...: runs CMD with call N failing (0: none), the calls logged to LOG.
faulty() {
    n=$1; log=$2; shift 2
    rm -f "$log"
    if [ $((n % 2)) -eq 0 ]; then e=EIO; else e=ENOSPC; fi
    FAULT_DIR="$D" FAULT_N="$n" FAULT_ERRNO=$e FAULT_LOG="$log" LD_PRELOAD="$SHIM" "$@"
}
violation() { bad=$((bad + 1)); say "FAIL: $*"; }

# what_failed LOG: the "call path" of the injected failure, or "" when none fired.
what_failed() { sed -n 's/^[0-9]* \([a-z0-9]*\) \(.*\) FAILED .*/\1 \2/p' "$1"; }

# ---- 1. itera-bench run: the journal and the results file ----
cat > "$T/tiny.ini" <<'INI'
[profile]
families = scan
kernels = sequential, parallel
scan_channels = 8
scan_state = 4
scan_seq = 16
scan_batch = 1
threads = 1
repetitions = 1
min_time = 0.001
INI
OUT="$D/out/r.json"
mkdir -p "$D/out"
"$BENCH" run --platform embedded --profile "$T/tiny.ini" --out "$OUT" >/dev/null 2>"$T/err" ||
    { cat "$T/err"; say "FAIL: the clean run failed"; exit 1; }
cp "$OUT" "$T/old.json"
faulty 0 "$T/log" "$BENCH" run --platform embedded --profile "$T/tiny.ini" --out "$OUT" >/dev/null 2>&1
P=$(wc -l <"$T/log")
check_run() { # after a failed run: OUT old or complete; no temp files; the journal whole
    python3 - "$OUT" "$T/old.json" "$1" <<'PY' || return 1
import json, sys, os
out, old, renamed = sys.argv[1], sys.argv[2], sys.argv[3] == "1"
if os.path.exists(out):
    a = open(out, "rb").read()
    if a != open(old, "rb").read():
        if not renamed:
            sys.exit("the results file changed although its rename never happened")
        d = json.loads(a)
        names = {b["run_name"] for b in d["benchmarks"]}
        if len(names) != 2:
            sys.exit("the new results file lacks cells: %s" % sorted(names))
else:
    sys.exit("the results file is gone")
j = out + ".journal"
if os.path.exists(j):
    data = open(j, "rb").read()
    if data and not data.endswith(b"\n"):
        sys.exit("the journal ends inside a line")
    for line in data.splitlines():
        json.loads(line)
PY
}
for n in $(seq 1 "$P"); do
    cp "$T/old.json" "$OUT"; rm -f "$OUT.journal"
    faulty "$n" "$T/log" "$BENCH" run --platform embedded --profile "$T/tiny.ini" --out "$OUT" >/dev/null 2>"$T/err"
    rc=$?
    f=$(what_failed "$T/log")
    [ -n "$f" ] || { violation "run: call $n of $P was never reached"; continue; }
    [ $rc -ne 0 ] || violation "run: call $n ($f) failed but the run exited 0"
    grep -q "$D" "$T/err" || { violation "run: call $n ($f): no message naming the file"; cat "$T/err"; }
    renamed=0; grep -q "^[0-9]* rename $OUT\$" "$T/log" && renamed=1
    msg=$(check_run $renamed 2>&1) || violation "run: call $n ($f): $msg"
    ls "$D/out" | grep -q '\.tmp\.' && violation "run: call $n ($f): a temporary file is left: $(ls "$D/out")"
done
say "run (results file + journal): $P fault points tried"

# ---- 2. itera-bench report: README.md, .dat files and charts ----
REP="$D/rep"
"$BENCH" report "$OUT" -o "$REP" >/dev/null 2>&1 || { say "FAIL: the clean report failed"; exit 1; }
cp -r "$REP" "$T/rep-old"
cp tests/data/host_failures.json "$T/other.json"
"$BENCH" report "$T/other.json" -o "$T/rep-new" >/dev/null 2>&1 || { say "FAIL: the reference report failed"; exit 1; }
faulty 0 "$T/log" "$BENCH" report "$T/other.json" -o "$REP" >/dev/null 2>&1
P2=$(wc -l <"$T/log")
for n in $(seq 1 "$P2"); do
    rm -rf "$REP"; cp -r "$T/rep-old" "$REP"
    faulty "$n" "$T/log" "$BENCH" report "$T/other.json" -o "$REP" >/dev/null 2>"$T/err"
    rc=$?
    f=$(what_failed "$T/log")
    [ -n "$f" ] || { violation "report: call $n of $P2 was never reached"; continue; }
    [ $rc -ne 0 ] || violation "report: call $n ($f) failed but report exited 0"
    grep -q "$D" "$T/err" || { violation "report: call $n ($f): no message naming the file"; cat "$T/err"; }
    # every file: as before or as the new report has it, whole; nothing temporary
    msg=$(python3 - "$REP" "$T/rep-old" "$T/rep-new" <<'PY' 2>&1
import os, sys
rep, old, new = sys.argv[1:4]
for root, dirs, files in os.walk(rep):
    for name in files:
        p = os.path.join(root, name)
        rel = os.path.relpath(p, rep)
        if name == "gnuplot.log":
            continue  # gnuplot's messages, appended as it runs: a log, not an output
        if ".tmp." in name or ".gnuplot." in name:
            sys.exit("temporary file left: " + rel)
        data = open(p, "rb").read()
        ok = any(os.path.exists(os.path.join(b, rel)) and open(os.path.join(b, rel), "rb").read() == data
                 for b in (old, new))
        if not ok:
            sys.exit("%s is neither the old nor the new file (%d bytes)" % (rel, len(data)))
PY
) || violation "report: call $n ($f): $msg"
done
say "report (markdown, .dat, charts): $P2 fault points tried"

# ---- 3. itera quantize: the folder, replaced as a whole ----
"$ITERA" quantize --quant int4 --out "$T/q-old" >/dev/null 2>&1 &&
"$ITERA" quantize --quant int8 --out "$T/q-new" >/dev/null 2>&1 || { say "FAIL: the clean quantize failed"; exit 1; }
Q="$D/q"
rm -rf "$Q"; cp -r "$T/q-old" "$Q"
faulty 0 "$T/log" "$ITERA" quantize --quant int8 --out "$Q" >/dev/null 2>&1
P3=$(wc -l <"$T/log")
for n in $(seq 1 "$P3"); do
    rm -rf "$Q"; cp -r "$T/q-old" "$Q"
    faulty "$n" "$T/log" "$ITERA" quantize --quant int8 --out "$Q" >/dev/null 2>"$T/err"
    rc=$?
    f=$(what_failed "$T/log")
    [ -n "$f" ] || { violation "quantize: call $n of $P3 was never reached"; continue; }
    [ $rc -ne 0 ] || violation "quantize: call $n ($f) failed but quantize exited 0"
    grep -q "$D" "$T/err" || { violation "quantize: call $n ($f): no message naming the file"; cat "$T/err"; }
    if diff -r "$Q" "$T/q-old" >/dev/null 2>&1; then :
    elif diff -r "$Q" "$T/q-new" >/dev/null 2>&1; then
        grep -q "^[0-9]* renameat2\? .*$Q\$" "$T/log" || grep -q "^[0-9]* rename $Q\$" "$T/log" ||
            violation "quantize: call $n ($f): the new folder is in place although it was never renamed"
    else violation "quantize: call $n ($f): $Q is neither the old nor the new folder: $(ls "$Q" 2>&1)"; fi
    ls "$D" | grep -q '^q\.tmp\.' && violation "quantize: call $n ($f): a temporary folder is left: $(ls "$D")"
done
# and into a path that did not exist: no folder at all, or the whole new one
P4=0
rm -rf "$Q"
faulty 0 "$T/log" "$ITERA" quantize --quant int8 --out "$Q" >/dev/null 2>&1
P4=$(wc -l <"$T/log")
for n in $(seq 1 "$P4"); do
    rm -rf "$Q"
    faulty "$n" "$T/log" "$ITERA" quantize --quant int8 --out "$Q" >/dev/null 2>"$T/err"
    rc=$?
    f=$(what_failed "$T/log")
    [ $rc -ne 0 ] || violation "quantize (new folder): call $n ($f) failed but quantize exited 0"
    if [ -e "$Q" ] && ! diff -r "$Q" "$T/q-new" >/dev/null 2>&1; then
        violation "quantize (new folder): call $n ($f): a partial folder was left: $(ls "$Q")"
    fi
    ls "$D" | grep -q '^q\.tmp\.' && violation "quantize (new folder): call $n ($f): a temporary folder is left"
done
say "quantize (replacing a folder, and into a new one): $((P3 + P4)) fault points tried"

total=$((P + P2 + P3 + P4))
if [ "$bad" -ne 0 ]; then say "FAIL: $bad violation(s) over $total fault points"; exit 1; fi
say "ok: $total fault points over 4 writers, 0 corrupted files"
