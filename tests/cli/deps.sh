#!/bin/sh
# The set-up logic, without root: scripts/deps.sh's groups, its install and its refusal for
# a non-root user, and the Makefile's two stages: with a pkg-config that knows nothing until
# a fake install step has run, one `make` must install and then link with the right flags
# (the first-time failure of issue 9: flags computed before the install), and a non-root
# user must get the sudo command before anything compiles.
set -u
BUILD=${BUILD:-build}
say() { echo "deps.sh: $*"; }
fail() { say "FAIL: $*" | tail -n 12; exit 1; }
T=$(mktemp -d /tmp/itera-deps-XXXXXX)
trap 'rm -rf "$T"' EXIT
# This test runs its own makes: nothing of the make that runs the tests may leak in.
unset MAKEFLAGS MFLAGS MAKELEVEL ITERA_STAGE
mkdir -p "$T/bin" "$T/installed"

# Fake system: a package is installed when $T/installed/NAME exists.
cat >"$T/query" <<EOF
#!/bin/sh
[ -f "$T/installed/\$1" ]
EOF
cat >"$T/install" <<EOF
#!/bin/sh
echo "fake-install \$*" >>"$T/install.log"
for p in "\$@"; do touch "$T/installed/\$p"; done
EOF
printf '#!/bin/sh\necho 1000\n' >"$T/bin/id"            # a non-root user
chmod +x "$T/query" "$T/install" "$T/bin/id"

# ---- scripts/deps.sh ----
out=$(sh scripts/deps.sh bogus 2>&1); rc=$?
[ $rc -eq 2 ] || fail "an unknown group: exit $rc, expected 2"
echo "$out" | grep -q "unknown group 'bogus'; groups: core, slurm, ort, torch, fuzz" ||
    fail "an unknown group: message lacks the valid groups: $out"
sh scripts/deps.sh --list | awk '{print $1}' | tr '\n' ' ' | grep -q "^core slurm ort torch fuzz " ||
    fail "--list does not list the groups core slurm ort torch fuzz"

out=$(DEPS_QUERY="$T/query" PATH="$T/bin:$PATH" sh scripts/deps.sh 2>&1); rc=$?
[ $rc -eq 1 ] || fail "non-root with packages missing: exit $rc, expected 1"
[ "$(echo "$out" | grep -c 'sudo apt-get install')" -eq 1 ] || fail "non-root: expected one sudo line: $out"
core=$(sh scripts/deps.sh --list | awk '$1 == "core" { $1 = ""; sub(/^ +/, ""); print }')
echo "$out" | grep -qxF "deps: run: sudo apt-get install -y --no-install-recommends $core" ||
    fail "non-root: the sudo line does not name the core packages ($core): $out"
[ -f "$T/install.log" ] && fail "non-root: something was installed"

out=$(DEPS_QUERY="$T/query" DEPS_INSTALL=true sh scripts/deps.sh slurm 2>&1); rc=$?
[ $rc -eq 1 ] || fail "an install that installs nothing: exit $rc, expected 1"
echo "$out" | grep -q "still missing after the install: slurm-wlm munge" || fail "an install that installs nothing: $out"

out=$(DEPS_QUERY="$T/query" DEPS_INSTALL="$T/install" sh scripts/deps.sh core torch 2>&1); rc=$?
[ $rc -eq 0 ] || fail "fake install: exit $rc: $out"
[ "$(wc -l <"$T/install.log")" -eq 1 ] || fail "fake install: expected one install call: $(cat "$T/install.log")"
grep -qxF "fake-install $core python3-torch" "$T/install.log" ||
    fail "fake install: not the core + torch packages: $(cat "$T/install.log")"
out=$(DEPS_QUERY="$T/query" DEPS_INSTALL="$T/install" sh scripts/deps.sh core torch 2>&1); rc=$?
[ $rc -eq 0 ] && [ -z "$out" ] || fail "everything installed: exit $rc, output '$out' (expected 0, silent)"
[ "$(wc -l <"$T/install.log")" -eq 1 ] || fail "everything installed: it installed again"
out=$(DEPS_QUERY="$T/query" sh scripts/deps.sh --check fuzz 2>&1); rc=$?
[ $rc -eq 1 ] && echo "$out" | grep -q "missing Debian packages: clang libclang-rt-14-dev" ||
    fail "--check fuzz: exit $rc: $out"
say "ok: deps.sh groups, install, non-root refusal, --check"

# ---- the Makefile's stages ----
# pkg-config that fails until the fake install has made $T/marker.
cat >"$T/pkg-config" <<EOF
#!/bin/sh
[ -f "$T/marker" ] || exit 1
exec pkg-config "\$@"
EOF
cat >"$T/mark" <<EOF
#!/bin/sh
echo "fake-install \$*" >>"$T/mark.log"
touch "$T/marker"
EOF
cat >"$T/mark-query" <<EOF
#!/bin/sh
[ -f "$T/marker" ]
EOF
chmod +x "$T/pkg-config" "$T/mark" "$T/mark-query"
# The engine's objects, already built: so only the link (the step that needs pkg-config's
# -ljansson) runs again. cp -p keeps their times, newer than the sources.
B="$T/b"
mkdir -p "$B"
[ -f "$BUILD/libitera.a" ] && [ -d "$BUILD/engine/cli" ] || fail "$BUILD/engine not built"
cp -Rp "$BUILD/engine" "$B/engine" && cp -p "$BUILD/libitera.a" "$B/" || fail "cannot copy $BUILD"
SANV=${SAN:-}

# Control: the build stage alone, before the install, cannot get the flags and says so.
out=$(make --no-print-directory ITERA_STAGE=build BUILD="$B" PKG_CONFIG="$T/pkg-config" SAN="$SANV" "$B/itera" 2>&1); rc=$?
[ $rc -ne 0 ] || fail "the build stage linked without pkg-config's flags (is PKG_CONFIG used?)"
echo "$out" | grep -q "does not find: benchmark cmocka hwloc inih jansson" ||
    fail "the build stage without packages: no clear message: $out"

# Non-root with the packages missing: the sudo line, and nothing compiled or linked.
out=$(PATH="$T/bin:$PATH" DEPS_QUERY="$T/mark-query" make --no-print-directory BUILD="$T/b2" \
      PKG_CONFIG="$T/pkg-config" build 2>&1); rc=$?
[ $rc -ne 0 ] || fail "non-root make build with packages missing succeeded"
echo "$out" | grep -q "run: sudo apt-get install" || fail "non-root make build: no sudo line: $out"
echo "$out" | grep -q "  CC \|  LD " && fail "non-root make build compiled something: $out"
[ -e "$T/b2" ] && fail "non-root make build made $T/b2"
out=$(PATH="$T/bin:$PATH" DEPS_QUERY="$T/mark-query" make --no-print-directory help 2>&1) ||
    fail "make help ran the install step: $out"

# The first make on a machine without the packages: installs, then links, in one go.
out=$(DEPS_QUERY="$T/mark-query" DEPS_INSTALL="$T/mark" make --no-print-directory BUILD="$B" \
      PKG_CONFIG="$T/pkg-config" SAN="$SANV" "$B/itera" 2>&1); rc=$?
[ $rc -eq 0 ] || { echo "$out"; fail "first make $B/itera: exit $rc"; }
[ -f "$T/mark.log" ] || fail "first make: the install step did not run"
echo "$out" | grep -q "  CC " && fail "first make: objects were rebuilt (copied objects not up to date?)"
echo "$out" | grep -q "  LD *$B/itera" || fail "first make: no link of $B/itera: $out"
"$B/itera" --help >/dev/null 2>&1 || fail "the linked $B/itera does not run"
say "ok: make installs first, then links with pkg-config's flags in the same invocation"
