#!/bin/sh
# `itera-bench submit --dry-run` (no Slurm needed): the sbatch scripts it would write ask
# for the platform's cores the platform's way (cpus-per-task, nomultithread, exclusive for
# "all cores"), run each shard with --resume into the sweep folder, merge after the whole
# array; the cells it lists per shard are every cell of the sweep exactly once. Nothing is
# written. Plus the usage errors of submit and submit --resume.
set -u
BUILD=${BUILD:-build}
BIN="$BUILD/itera-bench"
. tests/cli_lib.sh
T=$(mktemp -d /tmp/itera-submit-XXXXXX)
trap 'rm -rf "$T"' EXIT

"$BIN" submit --platform embedded --profile ci --shards 4 --partition debug --time 0:10:00 \
    --account lab --constraint avx512 --sbatch-arg=--mem=2G --dir "$T/sweep" --out "$T/ci.json" \
    --dry-run >"$T/dry.txt" 2>&1
expect 0 "#SBATCH --array=0-3" cat "$T/dry.txt"
for line in "#SBATCH --cpus-per-task=2" "#SBATCH --hint=nomultithread" "#SBATCH --partition=debug" \
    "#SBATCH --time=0:10:00" "#SBATCH --account=lab" "#SBATCH --constraint=avx512" "#SBATCH --mem=2G" \
    "#SBATCH --output=$T/sweep/logs/shard-%a.out" "--shard \"\$shard/4\" --resume --out \"$T/sweep/shard-\$shard.json\"" \
    "merge \$files --out '$T/ci.json' --status \"\$dir/merge-status.json\"" \
    "report '$T/ci.json' -o '$T/sweep/report'" \
    "sbatch --parsable --dependency=afterany:<array job id> $T/sweep/merge.sbatch" \
    "shard 3/4: 5 cells"; do
    expect 0 "$line" cat "$T/dry.txt"
done
expect 1 "no --exclusive" sh -c "grep -q -- '--exclusive' '$T/dry.txt' || { echo 'no --exclusive'; exit 1; }"
expect 1 "nothing written" sh -c "[ -e '$T/sweep' ] || { echo 'nothing written'; exit 1; }"
# The shards' cells are the sweep's cells, each once.
grep -E '^  [0-9]+	' "$T/dry.txt" | cut -f2 | sort >"$T/dry.cells"
"$BIN" list --cells --profile ci 2>/dev/null | cut -f2 | sort >"$T/list.cells"
expect 0 "22 cells, each once" sh -c "cmp '$T/dry.cells' '$T/list.cells' && [ \$(sort -u '$T/dry.cells' | wc -l) -eq 22 ] && echo '22 cells, each once'"

# Other platforms: laptop asks for 4 CPUs; host takes whole nodes.
expect 0 "#SBATCH --cpus-per-task=4" "$BIN" submit --platform laptop --profile ci --dry-run --dir "$T/l"
expect 0 "#SBATCH --exclusive" "$BIN" submit --platform host --profile ci --dry-run --dir "$T/h"
expect 1 "no cpus-per-task" sh -c "'$BIN' submit --platform host --profile ci --dry-run --dir '$T/h' | sed '/merge.sbatch ----/q' | grep -q -- '--cpus-per-task' || { echo 'no cpus-per-task'; exit 1; }"
expect 0 "--set 'repetitions=1' --emulate" "$BIN" submit --platform desktop --profile ci --set repetitions=1 --emulate --cpus-per-task 2 --dry-run --dir "$T/d"

# Errors.
expect 2 "--shards 40 is more than the 22 cells of profile ci" "$BIN" submit --profile ci --shards 40 --dry-run
expect 2 "--shards '0': expected an integer in 1..10000" "$BIN" submit --profile ci --shards 0
expect 2 "unknown profile 'nope'" "$BIN" submit --profile nope --dry-run
expect 2 "--set bogus=1: unknown key" "$BIN" submit --profile ci --set bogus=1 --dry-run
expect 2 "may not contain spaces" "$BIN" submit --profile ci --dir "$T/with space" --dry-run
expect 2 "unknown argument '--bogus'" "$BIN" submit --bogus
expect 2 "--partition needs a value" "$BIN" submit --partition
expect 2 "only --dry-run goes with it" "$BIN" submit --resume "$T/sweep" --shards 2
expect 2 "no such file (not a sweep folder written by itera-bench submit)" "$BIN" submit --resume "$T/none"
expect 0 "usage: itera-bench submit" "$BIN" submit --help
finish "submit CLI"
