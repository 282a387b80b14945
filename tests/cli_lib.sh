# cli_lib.sh: shared by the CLI tests in tests/cli/ (sourced, not run).
# Counts passed/failed cases; `expect` runs one case; `finish NAME` prints the closing
# "NAME: N passed, N failed" line and returns non-zero on any failure.
pass=0; fail=0

# expect CODE NEEDLE CMD...: runs CMD, checks its exit code and that stdout+stderr holds NEEDLE
expect() {
    code=$1; needle=$2; shift 2
    out=$("$@" 2>&1); rc=$?
    if [ "$rc" -eq "$code" ] && printf '%s' "$out" | grep -qF -- "$needle"; then
        pass=$((pass + 1)); echo "ok   [$rc] $*"
    else
        fail=$((fail + 1)); echo "FAIL [$rc, wanted $code with '$needle'] $*"; printf '%s\n' "$out" | tail -3
    fi
}

finish() {
    echo "$1: $pass passed, $fail failed"
    [ "$fail" -eq 0 ]
}
