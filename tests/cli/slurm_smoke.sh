#!/bin/sh
# Slurm smoke test (part of make test; the full end-to-end test is make test-slurm): a small
# sweep submitted to a real one-node cluster (scripts/slurm-local.sh) as a 2-task job array
# plus the merge job; after them the merged file holds exactly the sweep's cells, the merge
# status says complete, the report is rendered, and every shard recorded its Slurm job.
# Skips, saying why, where Slurm or munge is not installed or we are not root.
set -u
BUILD=${BUILD:-build}
BIN="$BUILD/itera-bench"
. tests/cli_lib.sh
. tests/slurm_lib.sh
command -v python3 >/dev/null 2>&1 || { echo "slurm_smoke.sh: SKIPPED: needs python3 to read JSON"; exit 0; }
slurm_up slurm_smoke.sh
SLURM_TMP=$(mktemp -d /tmp/itera-slurm-smoke-XXXXXX)
T=$SLURM_TMP
SETS="--set families=scan,decode --set quants=fp32,int8 --set scan_seq=128 --set repetitions=1 --set min_time=0.01"

"$BIN" submit --platform embedded --profile ci $SETS --shards 2 --dir "$T/sweep" --out "$T/merged.json" >"$T/submit.out" 2>&1
expect 0 "array job: " cat "$T/submit.out"
aj=$(sed -n 's/^  array job: \([0-9]*\).*/\1/p' "$T/submit.out")
mj=$(sed -n 's/^  merge job: \([0-9]*\).*/\1/p' "$T/submit.out")
expect 0 "merge job: $mj (after the array ends: --dependency=afterany:$aj)" cat "$T/submit.out"
expect 0 "done" sh -c ". tests/slurm_lib.sh; wait_gone $mj 120 && echo done"
"$BIN" list --cells --profile ci $SETS 2>/dev/null | cut -f2 >"$T/list.names"
cell_names "$T/merged.json" >"$T/merged.names" 2>/dev/null
expect 0 "same 5 cells" sh -c "cmp '$T/list.names' '$T/merged.names' && [ \$(wc -l <'$T/merged.names') -eq 5 ] && echo 'same 5 cells'"
expect 0 "\"complete\": true" cat "$T/sweep/merge-status.json"
expect 0 "5 of 5 cells from 2 of 2 shards" cat "$T/sweep/logs/merge.out"
expect 0 "# " head -1 "$T/sweep/report/README.md"
expect 0 "slurm job $aj task 1 node" python3 -c '
import json,sys; c=json.load(open(sys.argv[1]))["context"]
print("slurm job", c["itera_slurm_array_job_id"], "task", c["itera_slurm_array_task_id"], "node", c["itera_node"], c["itera_allocation"])' "$T/sweep/shard-1.json"
finish "slurm smoke"
