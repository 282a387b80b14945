#!/bin/sh
# CLI test of `itera-bench report` and `itera-bench compare` through the real binary
# ($BUILD/itera-bench), on the hand-made result files in tests/data/: exit codes 0/1/2,
# --help, the markdown file, the gate. Skips (and passes) where the CLI is not built.
set -u
BUILD=${BUILD:-build}
IB="$BUILD/itera-bench"
if [ ! -x "$IB" ]; then
    echo "SKIPPED: $IB is not built (bench/main.c missing)"
    exit 0
fi
if ! "$IB" report --help >/dev/null 2>&1; then
    echo "SKIPPED: $IB has no working 'report' command yet"
    exit 0
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0
check() { # check WANT_RC DESCRIPTION CMD...
    want=$1; what=$2; shift 2
    "$@" >"$tmp/out" 2>"$tmp/err"; rc=$?
    if [ "$rc" -ne "$want" ]; then
        echo "FAIL: $what: exit $rc, want $want"; sed 's/^/  | /' "$tmp/err" | head -5; fail=1
    else
        echo "ok: $what"
    fi
}
D=tests/data
check 0 "report --help" "$IB" report --help
check 0 "report renders" "$IB" report $D/embedded.json $D/desktop_emulated.json $D/peer_embedded.json -o "$tmp/r"
[ -s "$tmp/r/README.md" ] || { echo "FAIL: no README.md"; fail=1; }
[ -s "$tmp/r/fixture-2c/README.md" ] || { echo "FAIL: no fixture-2c/README.md (the machine's report)"; fail=1; }
grep -q "desktop \*\*(emulated)\*\*" "$tmp/r/README.md" || { echo "FAIL: emulated row missing"; fail=1; }
check 0 "report again" "$IB" report $D/peer_embedded.json $D/desktop_emulated.json $D/embedded.json -o "$tmp/r2"
for f in README.md fixture-2c/README.md; do
    cmp -s "$tmp/r/$f" "$tmp/r2/$f" || { echo "FAIL: report not deterministic ($f)"; fail=1; }
done
check 2 "report: missing file" "$IB" report $D/nope.json -o "$tmp/r3"
check 0 "compare --help" "$IB" compare --help
check 0 "compare two files" "$IB" compare $D/compare_base.json $D/compare_new.json
grep -q "| Benchmark | Base | New | Ratio \[95% CI\] | p (adjusted) | n | Verdict | Why |" "$tmp/out" || { echo "FAIL: no table"; fail=1; }
grep -q "Differences (shown, not refused): .itera_git." "$tmp/out" || { echo "FAIL: build difference not shown"; fail=1; }
check 2 "compare: a file without a machine fingerprint is refused" "$IB" compare $D/compare_base.json $D/legacy_embedded.json
grep -q "refusing to judge" "$tmp/err" || { echo "FAIL: no refusal message"; fail=1; }
check 0 "compare --cross" "$IB" compare --cross $D/compare_base.json $D/legacy_embedded.json
check 1 "compare gate" "$IB" compare --fail-above 5 $D/compare_base.json $D/compare_new.json
check 0 "compare variants" "$IB" compare --variants sequential,chunked $D/variants.json
check 2 "compare: not GB JSON" "$IB" compare $D/make_fixtures.py $D/compare_new.json
exit $fail
