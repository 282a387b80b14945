# itera-bench: build, test and benchmark.  `make help` lists targets and variables.
#
# Two stages, so that the first `make ...` on a machine without the packages works: stage 1
# (this file without ITERA_STAGE) runs `deps` (scripts/deps.sh installs the missing Debian
# packages of its core group), then runs the same goals in a second make with
# ITERA_STAGE=build, which asks pkg-config for the flags (they exist only after the
# install) and builds. help, clean and deps need no packages and run in stage 1 itself.
#
# Layout: engine/*.c -> build/libitera.a; engine/cli/*.c -> build/itera;
# bench/*.c + bench/*.cc -> build/itera-bench; tests/test_*.c -> one cmocka binary each.
# Files named *_avx2.c, *_avx512.c, *_vnni.c are compiled with their ISA flags and are
# only called after a run-time CPUID check (itera_isa_best, engine/cpu.c), so the binaries run on any x86-64.

BUILD    ?= build
PLATFORM ?= embedded
PROFILE  ?= default
CC       ?= cc
CXX      ?= c++
V        ?= 0

ifeq ($(V),0)
Q := @
else
Q :=
endif

OPT      ?= -O3
WARN     := -Wall -Wextra -Wpedantic -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
            -Wpointer-arith -Wformat=2 -Wundef -Wvla
ifneq ($(CI),)
WERROR   ?= 1
endif
ifeq ($(WERROR),1)
WARN     += -Werror
endif
SAN      ?=
CPPFLAGS += -D_GNU_SOURCE
CFLAGS   += -std=c11 $(OPT) -g $(WARN) -pthread -MMD -MP $(SAN)
CXXFLAGS += -std=c++17 $(OPT) -g -Wall -Wextra -Wpedantic -Wshadow $(if $(filter 1,$(WERROR)),-Werror) -pthread -MMD -MP $(SAN)
LDFLAGS  += -pthread $(SAN)

PKGS_ENGINE := jansson
PKGS_BENCH  := jansson hwloc inih benchmark nettle zlib
PKGS_TEST   := cmocka
PKG_CONFIG  ?= pkg-config
DEPS_GROUPS ?=

ISA_AVX2   := -mavx2 -mfma -mf16c
ISA_AVX512 := -mavx512f -mavx512bw -mavx512dq -mavx512vl -mfma -mf16c
ISA_VNNI   := $(ISA_AVX512) -mavx512vnni
ISA_AMX    := $(ISA_VNNI) -mamx-tile -mamx-int8

ENGINE_SRC := $(sort $(wildcard engine/*.c))
CLI_SRC    := $(sort $(wildcard engine/cli/*.c))
BENCH_SRC  := $(sort $(wildcard bench/*.c))
BENCH_CXX  := $(sort $(wildcard bench/*.cc))
BENCH_MAIN := bench/main.c
TEST_SRC   := $(sort $(wildcard tests/test_*.c))

ENGINE_OBJ := $(ENGINE_SRC:%.c=$(BUILD)/%.o)
CLI_OBJ    := $(CLI_SRC:%.c=$(BUILD)/%.o)
BENCH_LIBOBJ := $(patsubst %.c,$(BUILD)/%.o,$(filter-out $(BENCH_MAIN),$(BENCH_SRC))) \
                $(BENCH_CXX:%.cc=$(BUILD)/%.o)
TEST_BIN   := $(TEST_SRC:tests/%.c=$(BUILD)/tests/%)

LIBITERA   := $(BUILD)/libitera.a
LIBBENCH   := $(BUILD)/libiterabench.a
ITERA      := $(BUILD)/itera
ITERA_BENCH := $(BUILD)/itera-bench
.DEFAULT_GOAL := all
.SECONDARY:

.PHONY: all build deps layers test test-unit test-cli test-slurm asan ubsan tsan fuzz bench bench-slurm report compare ab noise ci ci-run peer clean help

## deps: install what is missing: the core group, plus DEPS_GROUPS="slurm ort torch fuzz"
##       (scripts/deps.sh --list); apt-get when root, else the command to run
deps:
	$(Q)sh scripts/deps.sh core $(DEPS_GROUPS)

ifeq ($(ITERA_STAGE),build)
# ---- stage 2: the build; pkg-config is asked once, here, after the install ----
PKG_MISSING := $(strip $(foreach p,$(sort $(PKGS_ENGINE) $(PKGS_BENCH) $(PKGS_TEST)),$(if $(shell $(PKG_CONFIG) --exists $(p) 2>/dev/null && echo y),,$(p))))
ifneq ($(PKG_MISSING),)
$(error $(PKG_CONFIG) does not find: $(PKG_MISSING) (their -dev packages are not installed?); run make deps, or sh scripts/deps.sh)
endif
PC_ENGINE   := $(shell $(PKG_CONFIG) --cflags $(PKGS_ENGINE))
PC_BENCH    := $(shell $(PKG_CONFIG) --cflags $(PKGS_BENCH))
PC_TEST     := $(shell $(PKG_CONFIG) --cflags $(sort $(PKGS_ENGINE) $(PKGS_BENCH) $(PKGS_TEST)))
TEST_LIBS   := $(shell $(PKG_CONFIG) --libs $(PKGS_TEST))
ENGINE_LIBS := $(shell $(PKG_CONFIG) --libs $(PKGS_ENGINE)) -lm
BENCH_LIBS  := $(shell $(PKG_CONFIG) --libs $(PKGS_BENCH)) -lpfm -lstdc++ -lm

## all, build: build/itera (the engine's CLI) and build/itera-bench (the harness)
all: build

build: $(ITERA) $(ITERA_BENCH)

# Layers the build enforces: each folder is compiled with its own include path and its own
# packages' flags. engine/include holds the engine's public API alone (itera.h and the .def
# tables it includes): it is all that bench/ and engine/cli/ see of the engine, so an
# #include of an engine-internal header there fails to compile ("no such file"; `make
# layers` checks it). engine/ sees its own headers; tests see every folder.
API_DIR     := engine/include
API_HEADERS := $(wildcard $(API_DIR)/*.h $(API_DIR)/*.def)
BENCH_INC   := -Ibench -I$(API_DIR) $(PC_BENCH)
CLI_INC     := -I$(API_DIR) $(PC_ENGINE)
INC         := -I$(API_DIR) -Iengine $(PC_ENGINE)
$(BUILD)/bench/%.o: INC := $(BENCH_INC)
$(BUILD)/engine/cli/%.o: INC := $(CLI_INC)
$(BUILD)/tests/%.o: INC := -Itests -Ibench -I$(API_DIR) -Iengine -Iengine/cli $(PC_TEST)
$(BUILD)/fuzz/%.o: INC := -Ifuzz -Ibench -I$(API_DIR) -Iengine -Iengine/cli $(PC_TEST)

$(BUILD)/%.o: %.c
	@mkdir -p $(@D)
	@$(if $(Q),echo "  CC    $<")
	$(Q)$(CC) $(CPPFLAGS) $(INC) $(CFLAGS) $(ISA) -c $< -o $@

$(BUILD)/%.o: %.cc
	@mkdir -p $(@D)
	@$(if $(Q),echo "  CXX   $<")
	$(Q)$(CXX) $(CPPFLAGS) $(INC) $(CXXFLAGS) -c $< -o $@

# The compiler flags the results record (context key itera_compiler).
$(BUILD)/bench/runner.o: CPPFLAGS += -DITERA_BUILD_FLAGS='"CFLAGS $(strip $(filter-out -W% -MMD -MP,$(CFLAGS))); ISA files $(ISA_AVX2) | $(ISA_VNNI) | $(ISA_AMX)"'

$(BUILD)/%_avx2.o:   ISA := $(ISA_AVX2)
$(BUILD)/%_avx512.o: ISA := $(ISA_AVX512)
$(BUILD)/%_vnni.o:   ISA := $(ISA_VNNI)
$(BUILD)/%_amx.o:    ISA := $(ISA_AMX)

$(LIBITERA): $(ENGINE_OBJ)
	$(Q)rm -f $@ && ar rcs $@ $^

$(LIBBENCH): $(BENCH_LIBOBJ)
	$(Q)rm -f $@ && ar rcs $@ $^

$(ITERA): $(CLI_OBJ) $(LIBITERA)
	@$(if $(Q),echo "  LD    $@")
	$(Q)$(CC) $(LDFLAGS) -o $@ $(CLI_OBJ) $(LIBITERA) $(ENGINE_LIBS)

$(ITERA_BENCH): $(BUILD)/bench/main.o $(LIBBENCH) $(LIBITERA)
	@$(if $(Q),echo "  LD    $@")
	$(Q)$(CXX) $(LDFLAGS) -o $@ $< $(LIBBENCH) $(LIBITERA) $(BENCH_LIBS) $(ENGINE_LIBS)

# Test binaries link the engine, and the harness library where one exists.
$(BUILD)/tests/%: $(BUILD)/tests/%.o $(LIBITERA) $(if $(BENCH_LIBOBJ),$(LIBBENCH))
	@$(if $(Q),echo "  LD    $@")
	$(Q)$(CXX) $(LDFLAGS) -o $@ $< $(if $(BENCH_LIBOBJ),$(LIBBENCH)) $(LIBITERA) \
	    $(TEST_LIBS) $(if $(BENCH_LIBOBJ),$(BENCH_LIBS)) $(ENGINE_LIBS)

# ---- Fuzzing: fuzz/<target>.c is one libFuzzer harness per reader (fuzz/README.md). Each
# is built twice: as $(BUILD)/fuzz/replay-<target> with the normal compiler (make test runs
# every file of fuzz/corpus/<target>/ through it once), and with clang's libFuzzer and
# ASan + UBSan as $(FUZZ_BUILD)/fuzz/fuzz-<target> for `make fuzz`.
FUZZ_SRC     := $(filter-out fuzz/replay.c,$(sort $(wildcard fuzz/*.c)))
FUZZ_TARGETS := $(FUZZ_SRC:fuzz/%.c=%)
FUZZ_REPLAY  := $(FUZZ_TARGETS:%=$(BUILD)/fuzz/replay-%)
FUZZ_LINK    := $(BUILD)/engine/cli/golden.o $(LIBBENCH) $(LIBITERA)
FUZZ_BUILD   ?= build-fuzz
FUZZ_SECONDS ?= 60
FUZZ_SAN     := -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=undefined \
                -fno-omit-frame-pointer

# In the libFuzzer build the numeric kernels are compiled without comparison tracing: it
# guides nothing there and made the load-time quantizer 10x slower (sanitizers stay on).
FUZZ_NOCMP   := $(filter engine/quant.c engine/matmul% engine/qgemm% engine/vmath% engine/scan%,$(ENGINE_SRC))
ifneq ($(findstring fuzzer-no-link,$(SAN)),)
$(FUZZ_NOCMP:%.c=$(BUILD)/%.o): CFLAGS += -fno-sanitize-coverage=trace-cmp
endif

# The fault-injection shim (tests/cli/faults.sh preloads it): no sanitizer, position
# independent, whatever the build.
FAULTINJ   := $(BUILD)/tests/libfaultinj.so
$(FAULTINJ): tests/faultinj.c
	@mkdir -p $(@D)
	@$(if $(Q),echo "  CC    $@")
	$(Q)$(CC) -O1 -g -Wall -Wextra -fPIC -shared -o $@ $< -ldl

## test: build and run every test (cmocka unit tests, then CLI tests)
test: build $(TEST_BIN) layers $(FUZZ_REPLAY) $(FAULTINJ)
	$(Q)sh tests/run.sh $(BUILD)

## layers: check that bench/'s and engine/cli/'s include paths hold the engine's public
##         header and nothing else of the engine (an engine-internal header must not be found)
layers:
	$(Q)for inc in "$(BENCH_INC)" "$(CLI_INC)"; do \
	    printf '#include "itera.h"\nint layers_probe;\n' | \
	        $(CC) $(CPPFLAGS) $$inc -fsyntax-only -x c - || \
	        { echo "layers: FAIL: $$inc cannot include itera.h" >&2; exit 1; }; \
	    for h in $(wildcard engine/*.h); do \
	        if printf '#include "%s"\n' "$${h#engine/}" | \
	            $(CC) $(CPPFLAGS) $$inc -M -MT probe -x c - 2>/dev/null | grep -q "$$h"; then \
	            echo "layers: FAIL: $$inc can include the engine-internal $$h" >&2; exit 1; fi; \
	    done; \
	done; echo "layers: bench/ and engine/cli/ see the engine only through $(API_DIR)/"

## test-slurm: end-to-end Slurm tests on a local one-node cluster (scripts/slurm-local.sh; root,
##        slurm-wlm + munge: sh scripts/deps.sh slurm); skipped, saying why, without them;
##        ITERA_REQUIRE_SLURM=1 (.ci/run) fails instead
test-slurm: build
	$(Q)BUILD=$(BUILD) sh tests/slurm/e2e.sh

## asan, ubsan: the test suite under AddressSanitizer / UndefinedBehaviorSanitizer
asan:
	$(Q)$(MAKE) --no-print-directory BUILD=build-asan OPT=-O1 \
	    SAN="-fsanitize=address -fno-omit-frame-pointer" test
ubsan:
	$(Q)$(MAKE) --no-print-directory BUILD=build-ubsan OPT=-O1 \
	    SAN="-fsanitize=undefined -fno-sanitize-recover=undefined" test

## tsan: the test suite under ThreadSanitizer. Skipped there, and said so: the slowest
##       single-threaded ones (minutes under TSan; make test, asan and ubsan run them)
TSAN_SKIP := test_matmul faults.sh accuracy.sh
tsan:
	$(Q)SKIP_TESTS="$(TSAN_SKIP)" SKIP_WHY="single-threaded and slow under ThreadSanitizer; run by make test, asan, ubsan" \
	    $(MAKE) --no-print-directory BUILD=build-tsan OPT=-O1 SAN="-fsanitize=thread" test

$(BUILD)/fuzz/replay-%: $(BUILD)/fuzz/%.o $(BUILD)/fuzz/replay.o $(FUZZ_LINK)
	@$(if $(Q),echo "  LD    $@")
	$(Q)$(CXX) $(LDFLAGS) -o $@ $< $(BUILD)/fuzz/replay.o $(FUZZ_LINK) $(BENCH_LIBS) $(ENGINE_LIBS)

$(BUILD)/fuzz/fuzz-%: $(BUILD)/fuzz/%.o $(FUZZ_LINK)
	@$(if $(Q),echo "  LD    $@")
	$(Q)$(CXX) $(LDFLAGS) -fsanitize=fuzzer -o $@ $< $(FUZZ_LINK) $(BENCH_LIBS) $(ENGINE_LIBS)

## fuzz: build the libFuzzer harnesses (clang; deps group fuzz) and run each in turn for
##       FUZZ_SECONDS seconds (per target, default 60) [FUZZ_TARGETS="model ini"]; prints
##       the executions per target; crashes go to $(FUZZ_BUILD)/fuzz/<target>/
fuzz:
	$(Q)sh scripts/deps.sh fuzz >/dev/null 2>&1 || command -v clang >/dev/null || \
	    { echo "fuzz: needs clang and libclang-rt-14-dev (sh scripts/deps.sh fuzz)" >&2; exit 2; }
	$(Q)$(MAKE) --no-print-directory BUILD=$(FUZZ_BUILD) CC=clang CXX=clang++ OPT="-O1" \
	    SAN="$(FUZZ_SAN)" $(FUZZ_TARGETS:%=$(FUZZ_BUILD)/fuzz/fuzz-%)
	$(Q)sh fuzz/run.sh $(FUZZ_BUILD) $(FUZZ_SECONDS) $(FUZZ_TARGETS)

## bench: run a sweep (PLATFORM=embedded PROFILE=default [EMULATE=1] [RESUME=1] [MODEL=DIR]
##        [BENCH_ARGS=--benchmark_filter=REGEX] [MACHINE=name: the results' machine name,
##        default derived from the CPU]) into results/MACHINE/PLATFORM/PROFILE.json (beside
##        it, saying so, when that file holds another machine's, model's or build's run), its
##        Google Benchmark log beside it (shown with V=1), print the summary table, then
##        render reports/ from every result file
bench: build
	$(Q)$(ITERA_BENCH) run --platform $(PLATFORM) --profile $(PROFILE) \
	    $(if $(filter 1,$(EMULATE)),--emulate) $(if $(filter 1,$(RESUME)),--resume) \
	    $(if $(MODEL),--model $(MODEL)) $(if $(MACHINE),--machine $(MACHINE)) \
	    $(if $(filter-out 0,$(V)),--verbose) $(BENCH_ARGS)
	$(Q)$(MAKE) --no-print-directory report

## bench-slurm: the sweep on Slurm (itera-bench submit): a job array of SHARDS shards + a merge
##        job; PLATFORM PROFILE [SHARDS=4] [PARTITION=Q] [EMULATE=1] [MODEL=DIR] [DRY_RUN=1]
##        [MACHINE=name] [SUBMIT_ARGS=...]; merged into results/MACHINE/PLATFORM/PROFILE.json,
##        sweep folder results/MACHINE/PLATFORM/slurm/PROFILE/; RESUME=1 [SWEEP=DIR] re-submits
##        only the shards with missing cells; no SLURM_CONF nor /etc/slurm/slurm.conf: the
##        local test cluster if up
MACHINE_NAME = $(or $(MACHINE),$(shell $(ITERA_BENCH) info --json 2>/dev/null | sed -n 's/^ *"itera_machine": "\(.*\)",*$$/\1/p'))
SWEEP ?= results/$(MACHINE_NAME)/$(PLATFORM)/slurm/$(PROFILE)
LOCAL_SLURM_CONF = $(if $(SLURM_CONF),,$(if $(wildcard /etc/slurm/slurm.conf),,$(shell sh scripts/slurm-local.sh env 2>/dev/null | sed -n 's/^export SLURM_CONF=//p')))
bench-slurm: build
	$(Q)$(if $(LOCAL_SLURM_CONF),echo "bench-slurm: the local test cluster (SLURM_CONF=$(LOCAL_SLURM_CONF))" >&2;) \
	$(if $(LOCAL_SLURM_CONF),SLURM_CONF=$(LOCAL_SLURM_CONF)) $(ITERA_BENCH) submit \
	    $(if $(filter 1,$(RESUME)),--resume $(SWEEP),--platform $(PLATFORM) --profile $(PROFILE) \
	    $(if $(SHARDS),--shards $(SHARDS)) $(if $(PARTITION),--partition $(PARTITION)) \
	    $(if $(filter 1,$(EMULATE)),--emulate) $(if $(MODEL),--model $(MODEL)) \
	    $(if $(MACHINE),--machine $(MACHINE)) $(SUBMIT_ARGS)) \
	    $(if $(filter 1,$(DRY_RUN)),--dry-run)

## report: render reports/ from every results/**/*.json and *.json.gz (journals, results/tmp and the
##        Slurm sweep folders */slurm/ excluded: their merged file is beside them): an index
##        (reports/README.md) and one report per machine (reports/<machine>/README.md);
##        MACHINE=name renders that machine's report only
REPORT_DIR  ?= reports
RESULTS_JSON = $(shell find results \( -name '*.json' -o -name '*.json.gz' \) ! -name '*journal*' ! -name 'noise.json' ! -path 'results/tmp/*' ! -path '*/slurm/*' 2>/dev/null | LC_ALL=C sort)
report: build
	$(Q)if [ -z "$(RESULTS_JSON)" ]; then \
	    echo "report: no result files under results/ (run: make bench PLATFORM=embedded)" >&2; exit 2; fi
	$(Q)$(ITERA_BENCH) report $(RESULTS_JSON) -o $(REPORT_DIR) $(if $(MACHINE),--machine $(MACHINE)) $(REPORT_ARGS)

## compare: BASE=a.json NEW=b.json, or VARIANTS=sequential,chunked [FILE=x.json] [COMPARE_ARGS=...]
##          (VARIANTS without FILE measures the two variants interleaved on this build:
##          itera-bench ab --variants, PLATFORM=, PROFILE=ci unless given, ROUNDS=)
compare: build
	$(Q)if [ -n "$(VARIANTS)" ] && [ -z "$(FILE)" ]; then \
	    $(ITERA_BENCH) ab --variants $(VARIANTS) --platform $(PLATFORM) \
	        --profile $(if $(filter command line,$(origin PROFILE)),$(PROFILE),ci) \
	        $(if $(ROUNDS),--rounds $(ROUNDS)) $(COMPARE_ARGS); \
	elif [ -n "$(VARIANTS)" ]; then \
	    $(ITERA_BENCH) compare $(COMPARE_ARGS) --variants $(VARIANTS) $(FILE); \
	elif [ -n "$(BASE)" ] && [ -n "$(NEW)" ]; then \
	    $(ITERA_BENCH) compare $(COMPARE_ARGS) $(BASE) $(NEW); \
	else \
	    echo "compare: usage: make compare BASE=results/a.json NEW=results/b.json [COMPARE_ARGS='--fail-above 5']" >&2; \
	    echo "         or:    make compare VARIANTS=sequential,chunked [FILE=results/embedded/default.json]" >&2; \
	    exit 2; \
	fi

## ab: interleaved A/B of two builds: BASE=<git rev> NEW=<git rev|worktree dir> [PLATFORM=embedded]
##     [PROFILE=default] [ROUNDS=30] [AB_ARGS='--fail-above 5 --json ab.json']; both built in
##     their own folders (build/ab/src/<sha>), results in results/tmp/ab/<session>/
ab: build
	$(Q)if [ -z "$(BASE)" ] || [ -z "$(NEW)" ]; then \
	    echo "ab: usage: make ab BASE=<git rev> NEW=<git rev|worktree dir> [PLATFORM=...] [PROFILE=...] [ROUNDS=N] [AB_ARGS=...]" >&2; \
	    exit 2; fi
	$(Q)$(ITERA_BENCH) ab --base $(BASE) --new $(NEW) --platform $(PLATFORM) --profile $(PROFILE) \
	    $(if $(ROUNDS),--rounds $(ROUNDS)) $(if $(filter 1,$(EMULATE)),--emulate) \
	    $(if $(MODEL),--model $(MODEL)) $(if $(MACHINE),--machine $(MACHINE)) $(AB_ARGS)

## noise: this machine's noise thresholds per family, from an interleaved A/A of this build
##        [PLATFORM=embedded] [PROFILE=ci] [ROUNDS=30] -> results/<machine>/<platform>/noise.json
noise: build
	$(Q)$(ITERA_BENCH) noise --platform $(PLATFORM) \
	    --profile $(if $(filter command line,$(origin PROFILE)),$(PROFILE),ci) \
	    $(if $(ROUNDS),--rounds $(ROUNDS)) $(if $(filter 1,$(EMULATE)),--emulate) \
	    $(if $(MACHINE),--machine $(MACHINE)) $(NOISE_ARGS)

## peer: both peers beside the engine, same model and inputs: PyTorch eager
##       -> results/PLATFORM/peer_pytorch.json (python3-torch) and ONNX Runtime
##       -> results/PLATFORM/peer_ort.json (Node.js + onnxruntime-node: deps group `ort`);
##       installs the deps groups torch and ort first
##       [PEER_THREADS=1,2 (default 1 and the platform's)] [MODEL=DIR] [MACHINE=name] [EMULATE=1]
##       [PEER_ARGS=... (both)] [PEER_ORT_ARGS=... (ONNX Runtime only, e.g. --sweep quick)]
PEER_COMMON = --platform $(PLATFORM) $(if $(PEER_THREADS),--threads $(PEER_THREADS)) \
              $(if $(MODEL),--model $(MODEL)) $(if $(MACHINE),--machine $(MACHINE)) \
              $(if $(filter 1,$(EMULATE)),--emulate) $(PEER_ARGS)
peer: build
	$(Q)sh scripts/deps.sh torch
	$(Q)sh scripts/deps.sh ort || echo "peer: the ort group did not install; the ONNX Runtime peer will say what is missing" >&2
	$(Q)py=$$(for p in python3 /usr/bin/python3; do $$p -c 'import torch' >/dev/null 2>&1 && { echo $$p; break; }; done); \
	if [ -z "$$py" ]; then \
	    echo "peer: PyTorch not found; install Debian's python3-torch (apt-get install python3-torch)" >&2; exit 2; fi; \
	rc=0; \
	$$py scripts/peer_pytorch.py $(PEER_COMMON) || rc=$$?; \
	$$py scripts/peer_ort.py $(PEER_COMMON) $(PEER_ORT_ARGS) || rc=$$?; \
	if [ $$rc -ne 0 ]; then echo "peer: a peer failed (exit $$rc; its message is above)" >&2; fi; \
	exit $$rc

## ci: run the ci profile and render it strictly; re-render the committed report and diff it
CI_DIR      ?= $(BUILD)/ci
CI_PLATFORM ?= embedded
ci: build
	$(Q)if [ ! -f $(BENCH_MAIN) ]; then \
	    echo "ci: SKIPPED: $(BENCH_MAIN) (the itera-bench CLI) is not in this tree yet"; exit 0; fi; \
	$(MAKE) --no-print-directory ci-run

ci-run:
	$(Q)rm -rf $(CI_DIR) && mkdir -p $(CI_DIR)
	$(Q)emu=""; if [ "$$(nproc)" -lt 2 ]; then emu="--emulate"; echo "ci: fewer than 2 cores: running $(CI_PLATFORM) emulated" >&2; fi; \
	$(ITERA_BENCH) run --platform $(CI_PLATFORM) --profile ci --out $(CI_DIR)/ci.json $$emu
	$(Q)$(ITERA_BENCH) report --strict $(CI_DIR)/ci.json -o $(CI_DIR)/report
	$(Q)committed=$$(git ls-files 'results/*.json' 'results/*.json.gz' 2>/dev/null | grep -v -e journal -e 'noise\.json' -e '^results/tmp/' -e '/slurm/' | LC_ALL=C sort); \
	if [ -z "$$committed" ]; then \
	    echo "ci: no committed results under results/: committed-report check skipped"; \
	elif [ ! -f $(REPORT_DIR)/README.md ]; then \
	    echo "ci: results/ is committed but $(REPORT_DIR)/README.md is not: run make report and commit it" >&2; exit 1; \
	else \
	    $(ITERA_BENCH) report $$committed -o $(CI_DIR)/committed >/dev/null && \
	    fresh=$$(cd $(CI_DIR)/committed && find . -name README.md | LC_ALL=C sort); \
	    kept=$$(git ls-files '$(REPORT_DIR)/*README.md' | sed 's|^$(REPORT_DIR)/|./|' | LC_ALL=C sort); \
	    if [ "$$fresh" != "$$kept" ]; then \
	        echo "ci: the committed reports ($$(echo $$kept)) are not the ones the committed results give ($$(echo $$fresh)): run make report and commit" >&2; exit 1; \
	    fi; \
	    for f in $$fresh; do \
	        if ! diff -u $(REPORT_DIR)/$$f $(CI_DIR)/committed/$$f; then \
	            echo "ci: $(REPORT_DIR)/$$f differs from a fresh render of the committed results: run make report and commit" >&2; exit 1; \
	        fi; \
	    done; \
	    echo "ci: committed reports match their results ($$(echo $$fresh | wc -w) documents)"; \
	fi

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)

else
# ---- stage 1: install what is missing, then the same goals in stage 2 ----
STAGE_GOALS := $(filter-out help clean deps,$(or $(MAKECMDGOALS),all))
ifneq ($(STAGE_GOALS),)
.PHONY: $(STAGE_GOALS) build-stage
$(STAGE_GOALS): build-stage
	@:
build-stage: deps
	@$(MAKE) --no-print-directory ITERA_STAGE=build $(STAGE_GOALS)
endif
endif

clean:
	rm -rf build build-asan build-ubsan build-tsan build-fuzz

## clean: remove the build folders
## help: this list (a target documented by a `## target: what it does` line shows up here)
help:
	@echo "itera-bench: make targets (the first make of any target that builds installs the"
	@echo "missing Debian packages itself; as non-root it prints the sudo command to run)"
	@echo
	@awk '/^## [a-z]/ { sub(/^## /, ""); i = index($$0, ": "); \
	          printf "  make %-14s %s\n", substr($$0, 1, i - 1), substr($$0, i + 2); next } \
	      /^##/ { sub(/^## */, ""); printf "%22s%s\n", "", $$0 }' $(firstword $(MAKEFILE_LIST))
	@echo
	@echo "variables: PLATFORM=$(PLATFORM) PROFILE=$(PROFILE) EMULATE=1 RESUME=1 MODEL=DIR MACHINE=name"
	@echo "           WERROR=1 (warnings as errors; on when CI is set) V=1 (commands, GB's output)"
	@echo "           DEPS_GROUPS=\"slurm ort torch fuzz\" (make deps) PKG_CONFIG=$(PKG_CONFIG) BUILD=$(BUILD)"
	@echo "more: build/itera --help, build/itera-bench --help, build/itera-bench list, README.md"
