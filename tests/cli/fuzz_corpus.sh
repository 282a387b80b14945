#!/bin/sh
# The fuzz corpus as regression tests: every file of fuzz/corpus/<target>/ (the seeds and the
# reproducer of every crash the fuzzers found) runs once through its harness, built without
# libFuzzer as $BUILD/fuzz/replay-<target> (so under make asan/ubsan/tsan it runs with that
# sanitizer). A failing target is replayed file by file to name the input.
set -u
BUILD=${BUILD:-build}
. tests/cli_lib.sh
for dir in fuzz/corpus/*/; do
    t=$(basename "$dir")
    bin="$BUILD/fuzz/replay-$t"
    if [ ! -x "$bin" ]; then
        fail=$((fail + 1)); echo "FAIL $bin is not built (make test builds it)"; continue
    fi
    n=$(ls "$dir" | wc -l)
    if "$bin" "$dir" >/dev/null 2>"$BUILD/fuzz/replay-$t.err"; then
        pass=$((pass + 1)); echo "ok   $t: $n corpus files"
        continue
    fi
    fail=$((fail + 1)); echo "FAIL $t: the corpus replay failed"
    tail -n 5 "$BUILD/fuzz/replay-$t.err"
    for f in "$dir"*; do
        "$bin" "$f" >/dev/null 2>&1 || echo "     input: $f"
    done
done
[ -d fuzz/corpus ] || { fail=$((fail + 1)); echo "FAIL fuzz/corpus is missing"; }
finish "fuzz corpus"
