#!/bin/sh
# End-to-end on a real one-node Slurm cluster (make test-slurm; .ci/run runs it):
#  1. `make bench-slurm PLATFORM=embedded PROFILE=ci SHARDS=4` (into a temporary sweep
#     folder): after the array and the merge job, the merged file has exactly the cells of
#     a local `itera-bench run` of the ci profile (same names, each once, same order), the
#     merge status says complete and the report renders; each shard ran on the CPUs Slurm
#     gave it and recorded its job, array task, node and allocation.
#  2. A sweep where shard 1 is killed with scancel while it runs: the merge job reports
#     exactly shard 1's cells missing; `itera-bench submit --resume` re-submits only task
#     1, which resumes from its journal (the cells finished before the kill are not run
#     again), and the new merge job completes the file with the same cells as the local run.
#  3. Two 1-core tasks run side by side, each with its worker bound to its own CPU.
#  4. A task given fewer CPUs than the platform (srun -c 1) is refused with exit 2 and
#     both numbers.
# Skips, saying why, where Slurm or munge is not installed or we are not root (fails
# instead when ITERA_REQUIRE_SLURM=1).
set -u
BUILD=${BUILD:-build}
BIN="$BUILD/itera-bench"
. tests/cli_lib.sh
. tests/slurm_lib.sh
command -v python3 >/dev/null 2>&1 || { echo "e2e.sh: SKIPPED: needs python3 to read JSON"; exit 0; }
slurm_up slurm-e2e
SLURM_TMP=$(mktemp -d /tmp/itera-slurm-e2e-XXXXXX)
T=$SLURM_TMP

# The cell list (index, shard, name) and its counts, from the harness itself: the ci profile's
# cells depend on the build's kernel and format tables, so no count is written here.
"$BIN" list --cells --profile ci --shards 4 >"$T/list.txt" 2>/dev/null
ncells=$(wc -l <"$T/list.txt")
n1=$(awk -F '\t' '$2 == 1' "$T/list.txt" | wc -l)
expect 0 "the ci profile lists cells" sh -c "[ $ncells -ge 4 ] && [ $n1 -ge 1 ] && echo 'the ci profile lists cells'"

# The local run the sweeps must match, and the cell order.
expect 0 "$ncells of $ncells cells" "$BIN" run --platform embedded --profile ci --out "$T/local.json"
cell_names "$T/local.json" >"$T/local.names"

# 1. The make target, a whole sweep.
make --no-print-directory bench-slurm PLATFORM=embedded PROFILE=ci SHARDS=4 \
    SUBMIT_ARGS="--dir $T/a --out $T/a/ci.json" >"$T/a.out" 2>&1
expect 0 "(tasks 0-3)" cat "$T/a.out"
aj=$(sed -n 's/^  array job: \([0-9]*\).*/\1/p' "$T/a.out")
mj=$(sed -n 's/^  merge job: \([0-9]*\).*/\1/p' "$T/a.out")
expect 0 "squeue -j $aj,$mj" cat "$T/a.out"
expect 0 "gone" sh -c ". tests/slurm_lib.sh; wait_gone $mj 300 && echo gone"
cell_names "$T/a/ci.json" >"$T/a.names" 2>/dev/null
expect 0 "the cells of the local run" sh -c "cmp '$T/local.names' '$T/a.names' && echo 'the cells of the local run'"
expect 0 "$ncells distinct" sh -c "[ \$(sort -u '$T/a.names' | wc -l) -eq $ncells ] && [ \$(wc -l <'$T/a.names') -eq $ncells ] && echo '$ncells distinct'"
expect 0 "\"complete\": true" cat "$T/a/merge-status.json"
expect 0 "# " head -1 "$T/a/report/README.md"
expect 0 "#SBATCH --array=0-3" cat "$T/a/sweep.sbatch"
expect 0 "4 shards ok" python3 - "$T/a" "$aj" <<'PY'
import json, sys
d, aj = sys.argv[1], sys.argv[2]
for i in range(4):
    c = json.load(open("%s/shard-%d.json" % (d, i)))["context"]
    assert c["itera_shard"] == "%d/4" % i, c["itera_shard"]
    assert c["itera_scheduler"] == "slurm"
    assert c["itera_slurm_array_job_id"] == aj and c["itera_slurm_array_task_id"] == str(i), c
    assert c["itera_slurm_cpus_per_task"] == "2", c["itera_slurm_cpus_per_task"]
    assert sorted(c["itera_worker_cpus"].split(",")) == ["0", "1"], c["itera_worker_cpus"]
    assert c["itera_node"] and c["itera_allocation"].startswith("CPUs "), c
m = json.load(open("%s/ci.json" % d))
assert [s["slurm_array_task_id"] for s in m["itera_shards"]] == ["0", "1", "2", "3"]
print("4 shards ok")
PY
sacct -c --format=JobID,JobName%28,State,Elapsed,NodeList,ExitCode 2>/dev/null | tail -n +3 >"$T/sacct.txt"
expect 0 "itera-embedded-ci-merge  COMPLETED" cat "$T/sacct.txt"

# 2. Shard 1 killed while it runs (cells made slower so the kill lands mid-shard; the cell
#    set does not change), then --resume.
"$BIN" submit --platform embedded --profile ci --shards 4 --set min_time=0.3 --dir "$T/b" \
    --out "$T/b/ci.json" >"$T/b.out" 2>&1
aj=$(sed -n 's/^  array job: \([0-9]*\).*/\1/p' "$T/b.out")
mj=$(sed -n 's/^  merge job: \([0-9]*\).*/\1/p' "$T/b.out")
i=0; st=""; n=0
while [ $i -lt 600 ]; do
    st=$(squeue -h -j "${aj}_1" -o %T 2>/dev/null)
    n=$(cat "$T/b/shard-1.json.journal" 2>/dev/null | wc -l)
    [ "$st" = RUNNING ] && [ "$n" -ge 2 ] && break
    sleep 0.2; i=$((i + 1))
done
expect 0 "task 1 running with a journaled cell" sh -c "[ '$st' = RUNNING ] && [ $n -ge 2 ] && echo 'task 1 running with a journaled cell'"
scancel "${aj}_1"
expect 0 "gone" sh -c ". tests/slurm_lib.sh; wait_gone $mj 300 && echo gone"
expect 1 "1 was cancelled" sh -c "[ -e '$T/b/shard-1.json' ] || { echo '1 was cancelled'; exit 1; }"
expect 0 "exactly shard 1's cells missing" python3 - "$T/b/merge-status.json" "$T/list.txt" <<'PY'
import json, sys
st = json.load(open(sys.argv[1]))
want = [l.split("\t")[2].strip() for l in open(sys.argv[2]) if l.split("\t")[1] == "1"]
assert st["complete"] is False and st["present"] == st["cells"] - len(want), st
assert [m["shard"] for m in st["missing"]] == [1], st["missing"]
assert st["missing"][0]["cells"] == want, (st["missing"][0]["cells"], want)
print("exactly shard 1's cells missing:", len(want))
PY
expect 0 "): $n1 cell(s)" cat "$T/b/logs/merge.out"
done_before=$(($(wc -l <"$T/b/shard-1.json.journal") - 1))
"$BIN" submit --resume "$T/b" >"$T/b2.out" 2>&1
expect 0 "1 of 4 shards have missing cells: 1" cat "$T/b2.out"
expect 0 "(tasks 1)" cat "$T/b2.out"
mj=$(sed -n 's/^  merge job: \([0-9]*\).*/\1/p' "$T/b2.out")
expect 0 "gone" sh -c ". tests/slurm_lib.sh; wait_gone $mj 300 && echo gone"
expect 0 "resuming $T/b/shard-1.json.journal: $done_before of $n1 cells done" cat "$T/b/logs/shard-1.out"
expect 0 "at least one cell kept" sh -c "[ $done_before -ge 1 ] && echo 'at least one cell kept'"
expect 0 "\"complete\": true" cat "$T/b/merge-status.json"
cell_names "$T/b/ci.json" >"$T/b.names" 2>/dev/null
expect 0 "the cells of the local run" sh -c "cmp '$T/local.names' '$T/b.names' && echo 'the cells of the local run'"
expect 0 "every shard of $T/b is complete" "$BIN" submit --resume "$T/b"
expect 0 "# " head -1 "$T/b/report/README.md"

# 3. Two 1-core tasks side by side: each binds its worker to the CPU Slurm gave it.
printf '[platform]\nname = one\ndescription = one core\ncores = 1\nthreads = 1\nbinding = core\n' >"$T/one.ini"
"$BIN" submit --platform "$T/one.ini" --profile ci --set families=scan --set kernels=sequential,parallel \
    --set scan_seq=128 --set min_time=0.3 --shards 2 --dir "$T/c" --out "$T/c/one.json" >"$T/c.out" 2>&1
expect 0 "#SBATCH --cpus-per-task=1" cat "$T/c/sweep.sbatch"
mj=$(sed -n 's/^  merge job: \([0-9]*\).*/\1/p' "$T/c.out")
expect 0 "gone" sh -c ". tests/slurm_lib.sh; wait_gone $mj 300 && echo gone"
expect 0 "distinct CPUs 0 1" python3 - "$T/c" <<'PY'
import json, sys
cpus = [json.load(open("%s/shard-%d.json" % (sys.argv[1], i)))["context"]["itera_worker_cpus"] for i in (0, 1)]
assert sorted(cpus) == ["0", "1"], cpus
print("distinct CPUs", *sorted(cpus))
PY

# 4. An allocation smaller than the platform.
expect 2 "platform embedded needs 2 cores but the allocation of Slurm job" \
    srun -c 1 "$BIN" run --platform embedded --profile ci --out "$T/x.json"
finish "slurm end-to-end"
