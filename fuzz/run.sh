#!/bin/sh
# fuzz/run.sh BUILD SECONDS TARGET...: runs each libFuzzer harness BUILD/fuzz/fuzz-TARGET for
# SECONDS seconds (per target), one after the other, from its seed corpus fuzz/corpus/TARGET
# (read only) into a working corpus BUILD/fuzz/TARGET/corpus (kept between runs). Limits: 10 s
# per input (a longer one is a timeout), 2 GiB of memory; leaks are failures (LeakSanitizer).
# Prints one line per target (executions, executions per second, corpus size, new
# crashes) and a total; exits 1 when any target found a crash, leak, timeout or OOM, naming
# the reproducer: add it to fuzz/corpus/TARGET/ (named crash-*) with the fix, so make test
# replays it from then on.
set -u
BUILD=$1; SECS=$2; shift 2
total=0; failed=""
for t in "$@"; do
    bin="$BUILD/fuzz/fuzz-$t"
    [ -x "$bin" ] || { echo "fuzz: $bin is not built" >&2; exit 2; }
    w="$BUILD/fuzz/$t"
    mkdir -p "$w/corpus" "$w/artifacts"
    log="$w/last.log"
    # -close_fd_mask=3: the harnesses' own output (reports, error messages) is closed;
    # libFuzzer and the sanitizers keep writing their reports to the log.
    "$bin" -max_total_time="$SECS" -timeout=10 -rss_limit_mb=2048 -close_fd_mask=3 \
        -print_final_stats=1 -artifact_prefix="$w/artifacts/" "$w/corpus" "fuzz/corpus/$t" >"$log" 2>&1
    rc=$?
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
    rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -n 1)
    units=$(ls "$w/corpus" | wc -l)
    found=$(ls "$w/artifacts" 2>/dev/null | wc -l)
    [ -n "$execs" ] || execs=0
    total=$((total + execs))
    printf 'fuzz: %-12s %10s executions in %s s (%s/s), working corpus %s inputs, %s artifact(s)\n' \
        "$t" "$execs" "$SECS" "${rate:-?}" "$units" "$found"
    if [ "$rc" -ne 0 ]; then
        failed="$failed $t"
        grep -E "^==[0-9]+==ERROR|SUMMARY:|ALARM|out-of-memory|runtime error|Test unit written" "$log" | head -n 8 >&2
        echo "fuzz: $t: FAILED (exit $rc; log $log)" >&2
    fi
done
echo "fuzz: total $total executions over $# target(s), ${SECS} s each"
if [ -n "$failed" ]; then
    echo "fuzz: failures in:$failed (reproducers in $BUILD/fuzz/TARGET/artifacts/)" >&2
    exit 1
fi
