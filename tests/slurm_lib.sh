# slurm_lib.sh: shared by the tests that run on a real one-node Slurm cluster (sourced).
# slurm_up NAME: starts scripts/slurm-local.sh in a fresh state folder and exports
# SLURM_CONF; when Slurm or munge is not installed (or we are not root) it prints
# "NAME: SKIPPED: <why>" and exits 0 — or fails when ITERA_REQUIRE_SLURM=1 (CI, where the
# deps step installed them). The cluster is stopped and its folder removed on exit.
# wait_gone ID SECONDS: waits until Slurm no longer lists job ID as pending or running.
slurm_up() {
    SLURM_TEST=$1
    ITERA_SLURM_DIR=$(mktemp -d /tmp/itera-slurm-test-XXXXXX)
    export ITERA_SLURM_DIR
    trap 'sh scripts/slurm-local.sh clean >/dev/null 2>&1; rm -rf "$ITERA_SLURM_DIR" ${SLURM_TMP:+"$SLURM_TMP"}' EXIT
    out=$(sh scripts/slurm-local.sh start 2>&1); rc=$?
    if [ $rc -eq 3 ]; then
        why=$(printf '%s\n' "$out" | tail -1 | sed 's/^slurm-local: //')
        if [ "${ITERA_REQUIRE_SLURM:-0}" = 1 ]; then
            echo "$SLURM_TEST: FAIL: Slurm is required here (ITERA_REQUIRE_SLURM=1) but: $why"; exit 1
        fi
        echo "$SLURM_TEST: SKIPPED: $why"; exit 0
    fi
    if [ $rc -ne 0 ]; then
        printf '%s\n' "$out"
        echo "$SLURM_TEST: FAIL: the local cluster did not start (logs above)"; exit 1
    fi
    eval "$(printf '%s\n' "$out" | grep '^export SLURM_CONF=')"
    echo "$SLURM_TEST: $(printf '%s\n' "$out" | grep '^slurm-local: up')"
}

wait_gone() {
    i=0
    while [ -n "$(squeue -h -j "$1" -o %i 2>/dev/null)" ]; do
        i=$((i + 1))
        if [ $i -gt $(($2 * 2)) ]; then
            squeue; echo "job $1 still queued after $2 s"; return 1
        fi
        sleep 0.5
    done
    return 0
}

# The cell names of a results file (one line each, in file order), or of `list --cells`.
cell_names() {
    python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print("\n".join(b["run_name"] for b in d["benchmarks"] if "aggregate_name" not in b and b.get("repetition_index",0)==0))' "$1"
}
