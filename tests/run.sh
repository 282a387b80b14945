#!/bin/sh
# Run every cmocka test binary in BUILD/tests, then every CLI test script in tests/cli.
# Prints one line per program (with its seconds) and a closing "N passed, N failed" line;
# exit 1 on any failure. SKIP_TESTS="test_x faults.sh ..." skips those programs, each
# listed as SKIPPED with SKIP_WHY (the sanitizer targets use it for the slowest
# benchmark-style tests).
BUILD=${1:-build}
pass=0; fail=0; skip=0; failed=""
run_one() { # NAME CMD...
    name=$1; shift
    for s in ${SKIP_TESTS:-}; do
        if [ "$s" = "$name" ]; then
            echo "== $name: SKIPPED (${SKIP_WHY:-SKIP_TESTS})"; skip=$((skip + 1)); return
        fi
    done
    echo "== $name"
    t0=$(date +%s)
    if "$@"; then pass=$((pass + 1)); r=ok; else fail=$((fail + 1)); failed="$failed $name"; r=FAILED; fi
    echo "== $name: $r in $(($(date +%s) - t0)) s"
}
for t in "$BUILD"/tests/test_*; do
    case "$t" in *.o|*.d) continue ;; esac
    [ -x "$t" ] || continue
    run_one "$(basename "$t")" "$t"
done
for s in tests/cli/*.sh; do
    [ -f "$s" ] || continue
    run_one "$(basename "$s")" env BUILD="$BUILD" sh "$s"
done
[ -n "$failed" ] && echo "failed:$failed"
echo "tests: $pass passed, $fail failed${SKIP_TESTS:+, $skip skipped}"
[ "$fail" -eq 0 ]
