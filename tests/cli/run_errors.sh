#!/bin/sh
# itera-bench as a newcomer meets it: --help everywhere, `list`, and the clear refusals
# (a platform bigger than the host, a bad profile key, an unknown option), each with
# exit 2 and a message that names the problem and the way out. Runs no sweep.
set -u
BUILD=${BUILD:-build}
BIN="$BUILD/itera-bench"
say() { echo "run_errors.sh: $*"; }
fail() { say "FAIL: $*"; exit 1; }
[ -x "$BIN" ] || fail "$BIN not built"
T=$(mktemp -d /tmp/itera-cli-XXXXXX)
trap "rm -rf $T" EXIT

# expect CODE NEEDLE... -- ARGS: runs $BIN ARGS, checks the exit code and that stderr+stdout
# contain every needle.
expect() {
    code=$1; shift
    needles=""
    while [ "$1" != "--" ]; do needles="$needles
$1"; shift; done
    shift
    "$BIN" "$@" >"$T/out" 2>&1
    rc=$?
    [ $rc -eq "$code" ] || { cat "$T/out"; fail "itera-bench $*: exit $rc, expected $code"; }
    echo "$needles" | while IFS= read -r n; do
        [ -z "$n" ] && continue
        grep -qF -- "$n" "$T/out" || { cat "$T/out"; echo "MISSING: $n" >"$T/missing"; }
    done
    [ -f "$T/missing" ] && fail "itera-bench $*: output lacks '$(cat "$T/missing" | cut -c10-)'"
    return 0
}

expect 0 "commands:" "run" "list" "info" "report" "summary" "compare" "build/itera --help" "make help" -- --help
expect 0 "--verbose" "--benchmark_filter=REGEX" "resumes" "summary table" -- run --help
expect 0 "usage: itera-bench summary" -- summary --help
expect 2 "which results file" -- summary
expect 2 "summary:" -- summary /nonexistent.json
expect 0 "every command: itera-bench --help, build/itera --help" -- list
expect 2 "commands:" --
expect 2 "unknown command 'bogus'" -- bogus
expect 0 "--platform" "--resume" "--emulate" "--set" "seq" -- run --help
expect 0 "usage: itera-bench list" -- list --help
expect 0 "usage: itera-bench info" -- info --help
expect 0 "desktop" "laptop" "embedded" "host" "default" "ci" "kernels" "quant" "seqlen" "edge" \
         "sequential, parallel, chunked" "fp32, int8, int4" "tokens_per_second" -- list

# A platform bigger than any host: refused with both numbers and the way out.
printf '[platform]\nname = huge\ncores = 1024\nthreads = 64\n' >"$T/huge.ini"
expect 2 "asks for 1024 cores" "this host has" "EMULATE=1" "--emulate" -- run --platform "$T/huge.ini" --profile ci
# desktop (12 cores) on a smaller host
if [ "$(nproc)" -lt 12 ]; then
    expect 2 "asks for 12 cores" "EMULATE=1" -- run --platform desktop --profile ci
fi
expect 2 "unknown platform 'mainframe'" "desktop, embedded, host, laptop" -- run --platform mainframe
expect 2 "unknown profile 'nightly'" "ci, default" -- run --profile nightly
expect 2 "--set seqs=64" "valid keys" -- run --profile ci --set seqs=64
expect 2 "'fast' is not a kernel" "sequential, parallel, chunked" -- run --profile ci --set kernels=fast
expect 2 "unknown option '--frobnicate'" -- run --profile ci --frobnicate
expect 2 "unknown Google Benchmark flag" -- run --profile ci --benchmark_nonsense=1
expect 2 "longer than the model's max_seq_length" -- run --profile ci --set seq=4096 --set families=prefill
printf '[profile]\nseq = 64\nrepetitions = many\n' >"$T/bad.ini"
expect 2 "bad.ini:3:" "repetitions" -- run --profile "$T/bad.ini"
printf '[profile]\nthreads = 8\n' >"$T/t8.ini"
expect 2 "threads 8 is more than platform embedded's 2" -- run --platform embedded --profile "$T/t8.ini"
# --benchmark_list_tests lists the cells and runs nothing
expect 0 "prefill/fp32/sequential/seq:128/batch:1/threads:2" -- run --profile ci --out "$T/l.json" --benchmark_list_tests=true
[ -f "$T/l.json" ] && fail "--benchmark_list_tests wrote a results file"
say "ok: help, list and every refusal"
