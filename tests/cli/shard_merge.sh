#!/bin/sh
# Shards and merge, without a scheduler: a small sweep run as 2 shards, merged back into
# exactly the cells (names, each once, in order) of an unsharded run of the same sweep;
# a missing shard named by its cells with a re-run command that, run, completes the merge;
# and every refusal: a shard given twice, a file that is not a shard, shards of different
# sweeps, a cell in the wrong shard, another machine (then --allow-machines), bad flags.
# Also: a run in a CPU set smaller than the platform is refused with both numbers.
set -u
BUILD=${BUILD:-build}
BIN="$BUILD/itera-bench"
. tests/cli_lib.sh
command -v python3 >/dev/null 2>&1 || { echo "shard_merge.sh: SKIPPED: needs python3 to read JSON"; exit 0; }
T=$(mktemp -d /tmp/itera-shard-XXXXXX)
trap 'rm -rf "$T"' EXIT

# 5 cells: scan x 3 kernels, decode x 2 quants; quick.
SETS="--set families=scan,decode --set quants=fp32,int8 --set scan_seq=128 --set repetitions=1 --set min_time=0.01"
run() { "$BIN" run --platform embedded --profile ci $SETS "$@"; }
names() { python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print("\n".join(b["run_name"] for b in d["benchmarks"] if "aggregate_name" not in b and b.get("repetition_index",0)==0))' "$1"; }

# The cell order and the split.
"$BIN" list --cells --profile ci $SETS >"$T/list.txt" 2>"$T/list.err"
expect 0 "5 cells, cell list fnv1a64:" cat "$T/list.err"
cut -f2 "$T/list.txt" >"$T/list.names"
expect 0 "scan/sequential/channels:256/state:64/seq:128/batch:4/threads:2" cat "$T/list.names"
expect 0 "3	1	decode/fp32/sequential" "$BIN" list --cells --profile ci $SETS --shards 2
expect 0 "shard" sh -c "[ \"\$('$BIN' list --cells --profile ci $SETS --shard 1/2 2>/dev/null | cut -f1 | tr '\n' ' ')\" = '1 3 ' ] && echo shard"
expect 2 "--shard '2/2': the index must be 0..1" "$BIN" list --cells --shard 2/2
expect 2 "--shards '0': expected an integer in 1..10000" "$BIN" list --cells --shards 0
expect 2 "unknown profile 'nope'" "$BIN" list --cells --profile nope
expect 2 "unknown argument '--bogus'" "$BIN" list --cells --bogus

# run --shard: bad values, a shard with no cells.
expect 2 "--shard '3/2': the index must be 0..1 (shards are numbered from 0)" run --shard 3/2 --out "$T/x.json"
expect 2 "--shard 'x': expected I/N" run --shard x --out "$T/x.json"
expect 2 "shard 6/8 of profile ci has no cells (the profile has 5; use at most 5 shards)" run --shard 6/8 --out "$T/x.json"

# The two shards and a whole run of the same sweep.
expect 0 "3 of 3 cells in $T/s/shard-0.json" run --shard 0/2 --out "$T/s/shard-0.json"
expect 0 "2 of 2 cells in $T/s/shard-1.json" run --shard 1/2 --out "$T/s/shard-1.json"
expect 0 "5 of 5 cells" run --out "$T/whole.json"
expect 0 "itera_shard 1/2 cells 2 of 5" python3 -c '
import json,sys; c=json.load(open(sys.argv[1]))["context"]
print("itera_shard", c["itera_shard"], "cells", c["itera_shard_cells"], "of", c["itera_cells"], c["itera_node"], c["itera_allocation"])' "$T/s/shard-1.json"

# Merge: exactly the cells of the whole run, in order; any input order.
expect 0 "5 of 5 cells from 2 of 2 shards -> $T/m.json" "$BIN" merge "$T/s/shard-1.json" "$T/s/shard-0.json" --out "$T/m.json"
names "$T/m.json" >"$T/m.names"
names "$T/whole.json" >"$T/whole.names"
expect 0 "same cells" sh -c "cmp '$T/m.names' '$T/whole.names' && cmp '$T/m.names' '$T/list.names' && echo same cells"
expect 0 "family_index 0..4, merged 2 of 2 shards, missing 0" python3 -c '
import json,sys; d=json.load(open(sys.argv[1])); c=d["context"]
fi=sorted(set(b["family_index"] for b in d["benchmarks"]))
assert "itera_shard" not in c and "itera_cell_list" not in d
assert [s["shard"] for s in d["itera_shards"]] == ["0/2", "1/2"]
print("family_index %d..%d, merged %s, missing %s" % (fi[0], fi[-1], c["itera_merged"], c["itera_missing_cells"]))' "$T/m.json"
expect 0 "report:" "$BIN" report "$T/m.json" -o "$T/report"

# A missing shard: named by its cells, with the command that runs only those.
"$BIN" merge "$T/s/shard-0.json" --out "$T/part.json" --status "$T/status.json" >"$T/part.out" 2>&1
expect 1 "2 cell(s) missing" sh -c "cat '$T/part.out'; exit 1"
expect 0 "shard 1/2 (no file given): 2 cell(s)" cat "$T/part.out"
expect 0 "decode/fp32/sequential/steps:16/batch:1/threads:2" cat "$T/part.out"
expect 0 "\"complete\": false" cat "$T/status.json"
expect 0 "missing 2 ['scan/parallel" python3 -c '
import json,sys; d=json.load(open(sys.argv[1])); print("missing", d["context"]["itera_missing_cells"], d["itera_missing"])' "$T/part.json"
cmd=$(grep -- '--shard 1/2 --resume' "$T/part.out" | sed 's/^ *//')
expect 0 "--out $T/s/shard-1.json" echo "$cmd"
rm -f "$T/s/shard-1.json" "$T/s/shard-1.json.journal"
expect 0 "2 of 2 cells in $T/s/shard-1.json" sh -c "$cmd"
expect 0 "5 of 5 cells from 2 of 2 shards" "$BIN" merge "$T/s/shard-0.json" "$T/s/shard-1.json" --out "$T/m2.json"

# Refusals.
expect 2 "shard 0/2 is given twice" "$BIN" merge "$T/s/shard-0.json" "$T/s/shard-0.json" --out "$T/x.json"
expect 2 "not a shard file (no itera_shard in its context)" "$BIN" merge "$T/whole.json" --out "$T/x.json"
expect 2 "no such file" "$BIN" merge "$T/none.json" --out "$T/x.json"
expect 2 "--out FILE is required" "$BIN" merge "$T/s/shard-0.json"
expect 2 "is also an input" "$BIN" merge "$T/s/shard-0.json" --out "$T/s/shard-0.json"
expect 2 "unknown option '--bogus'" "$BIN" merge --bogus "$T/s/shard-0.json" --out "$T/x.json"
echo '{ nope' >"$T/bad.json"
expect 2 "$T/bad.json:1:" "$BIN" merge "$T/bad.json" --out "$T/x.json"
"$BIN" run --platform embedded --profile ci $SETS --set repetitions=2 --shard 1/2 --out "$T/r2/shard-1.json" >/dev/null 2>&1
expect 2 "their profile differs (itera_overrides" "$BIN" merge "$T/s/shard-0.json" "$T/r2/shard-1.json" --out "$T/x.json"
# A cell moved into the wrong shard's file.
python3 - "$T/s/shard-1.json" "$T/wrong-1.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
for b in d["benchmarks"]:
    if b["run_name"].startswith("scan/parallel"):
        for k in ("name", "run_name"):
            b[k] = b[k].replace("scan/parallel", "scan/sequential")
json.dump(d, open(sys.argv[2], "w"))
PY
expect 2 "belongs to shard 0/2, not to this file's shard 1/2" "$BIN" merge "$T/wrong-1.json" --out "$T/x.json"
# The cell list edited: its hash no longer matches.
python3 - "$T/s/shard-1.json" "$T/edited-1.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1])); d["itera_cell_list"].reverse(); json.dump(d, open(sys.argv[2], "w"))
PY
expect 2 "the file was changed" "$BIN" merge "$T/edited-1.json" --out "$T/x.json"
# Another machine: refused, then merged with --allow-machines, each cell keeping its machine.
python3 - "$T/s/shard-1.json" "$T/other/shard-1.json" <<'PY'
import json, os, sys
d = json.load(open(sys.argv[1])); c = d["context"]
c["itera_machine_cores"] = "64"; c["itera_machine"] = "other-64c"; c["itera_node"] = "node7"
os.makedirs(os.path.dirname(sys.argv[2]), exist_ok=True); json.dump(d, open(sys.argv[2], "w"))
PY
expect 2 "come from different machines (itera_machine_cores" "$BIN" merge "$T/s/shard-0.json" "$T/other/shard-1.json" --out "$T/x.json"
expect 0 "5 of 5 cells" "$BIN" merge --allow-machines "$T/s/shard-0.json" "$T/other/shard-1.json" --out "$T/multi.json"
expect 0 "machines vm, node7" python3 -c '
import json,sys; d=json.load(open(sys.argv[1])); c=d["context"]
m={b["run_name"]: b["itera_machine"] for b in d["benchmarks"]}
assert m["decode/fp32/sequential/steps:16/batch:1/threads:2"] == "other-64c", m
assert m["scan/sequential/channels:256/state:64/seq:128/batch:4/threads:2"] != "other-64c", m
print("machines", c["itera_node"])' "$T/multi.json"

# An allocation smaller than the platform (a CPU set of one CPU): refused with the numbers.
if command -v taskset >/dev/null 2>&1 && [ "$(nproc)" -ge 2 ]; then
    expect 2 "platform embedded needs 2 cores but this process may run on 1 (CPUs 0, its affinity" taskset -c 0 "$BIN" run --platform embedded --profile ci $SETS --out "$T/x.json"
    expect 0 "1 allowed (0)" taskset -c 0 "$BIN" info
    # A platform that fits the CPU set: its worker binds to the allowed CPU (1, not 0).
    printf '[platform]\nname = one\ndescription = one core\ncores = 1\nthreads = 1\nbinding = core\n' >"$T/one.ini"
    expect 0 "1 of 1 cells" taskset -c 1 "$BIN" run --platform "$T/one.ini" --profile ci --set families=scan \
        --set kernels=sequential --set scan_seq=128 --set repetitions=1 --set min_time=0.01 --out "$T/one.json"
    expect 0 "worker cpus 1; CPUs 1: 1 core, 1 PU of the machine's" python3 -c '
import json,sys; c=json.load(open(sys.argv[1]))["context"]; print("worker cpus %s; %s" % (c["itera_worker_cpus"], c["itera_allocation"]))' "$T/one.json"
else
    echo "SKIPPED: CPU-set refusal: needs taskset and 2 CPUs"
fi
finish "shard/merge CLI"
