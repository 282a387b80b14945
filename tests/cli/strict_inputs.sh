#!/bin/sh
# Bad input as an attacker or an unlucky user makes it, through both CLIs: inputs that are
# not regular files (refused at once, never read blocking), text with NUL or invalid bytes,
# strict INI, duplicate JSON keys, a journal that is a symbolic link, model files the
# format forbids, models whose activations overflow, a vocabulary of 4 (the old SIGFPE),
# a context too large for an int, and results/profiles big enough to expose quadratic
# reading. Every case here failed before (crash, hang, silent acceptance or truncation).
# Prints one line per case; exits 1 on any failure. Needs python3 for the fixtures.
set -u
BUILD=${BUILD:-build}
ITERA="$BUILD/itera"
BENCH="$BUILD/itera-bench"
T=$(mktemp -d /tmp/itera-strict-XXXXXX)
trap 'rm -rf "$T"' EXIT
. tests/cli_lib.sh
if ! command -v python3 >/dev/null 2>&1; then
    echo "strict_inputs.sh: SKIPPED: needs python3 to build its fixtures"; exit 0
fi
# A reader that blocks must not hang the suite: every case runs under a time limit.
lim() { timeout 20 "$@"; }

python3 tests/make_model.py "$T/m"
python3 tests/make_model.py "$T/v4" --vocab 4
python3 tests/make_model.py "$T/huge" --scale 60000
python3 tests/make_model.py "$T/extra" --extra-bytes 16
python3 tests/make_model.py "$T/long" --hidden 1 --layers 1 --moe "" --seq 1048576
expect 0 "parameters=" "$ITERA" info --model "$T/m"

# ---- not regular files: FIFOs and devices, for every reader ----
mkfifo "$T/fifo"
mkdir -p "$T/mf" && cp "$T/m/model.safetensors" "$T/mf/" && mkfifo "$T/mf/config.json"
expect 2 "config.json: is a FIFO, expected a regular file" lim "$ITERA" info --model "$T/mf"
mkdir -p "$T/ms" && cp "$T/m/config.json" "$T/ms/" && mkfifo "$T/ms/model.safetensors"
expect 2 "model.safetensors: is a FIFO" lim "$ITERA" info --model "$T/ms"
mkdir -p "$T/mt" && cp "$T/m/config.json" "$T/m/model.safetensors" "$T/mt/" && mkfifo "$T/mt/tokenizer.json"
expect 2 "tokenizer.json: is a FIFO" lim "$ITERA" generate --model "$T/mt" -n 2
expect 2 "is a FIFO" lim "$ITERA" verify "$T/fifo"
expect 2 "is a FIFO" lim "$ITERA" perplexity --text "$T/fifo"
expect 2 "/dev/zero: is a character device" lim "$ITERA" perplexity --text /dev/zero
expect 2 "is a folder" lim "$ITERA" perplexity --text "$T"
expect 2 "is a FIFO" lim "$BENCH" report "$T/fifo" -o "$T/rep"
expect 2 "is a FIFO" lim "$BENCH" compare "$T/fifo" "$T/fifo"
expect 2 "is a FIFO" lim "$BENCH" run --platform "$T/fifo" --profile ci --out "$T/r.json"
expect 2 "is a FIFO" lim "$BENCH" run --profile "$T/fifo" --out "$T/r.json"
expect 2 "/dev/null: is a character device" lim "$BENCH" run --profile /dev/null --out "$T/r.json"

# ---- text: NUL and invalid UTF-8 are errors naming the byte offset ----
printf 'w5 w6 w7\0 w8 w9\n' > "$T/nul.txt"
expect 2 "NUL byte at byte offset 8" "$ITERA" perplexity --text "$T/nul.txt"
printf 'w5 w6\n\377 w7 w8\n' > "$T/bad.txt"
expect 2 "bad.txt:2: invalid UTF-8 (byte 0xff) at byte offset 6" "$ITERA" perplexity --text "$T/bad.txt"
expect 2 "--prompt:1: invalid UTF-8" "$ITERA" generate --prompt "$(printf 'a\377b')"

# ---- INI: continuation lines, NUL, inline ';', 'key: value', repeated keys ----
ini() { printf '[profile]\nfamilies = scan\nkernels = sequential\nscan_seq = 16\nscan_batch = 1\nthreads = 1\nrepetitions = 1\n%b' "$1" > "$T/p.ini"; }
ini 'description = one\n  two\n'
expect 2 "p.ini:9: indented line" "$BENCH" run --profile "$T/p.ini" --out "$T/r.json"
ini 'description = a\0b\n'
expect 2 "p.ini:8: NUL byte at byte offset" "$BENCH" run --profile "$T/p.ini" --out "$T/r.json"
ini 'description = a;b\n'
expect 2 "p.ini:8: ';' inside a value" "$BENCH" run --profile "$T/p.ini" --out "$T/r.json"
ini 'description: x\n'
expect 2 "p.ini:8: 'key: value' is not accepted" "$BENCH" run --profile "$T/p.ini" --out "$T/r.json"
ini 'threads = 2\n'
expect 2 "p.ini:8: key 'threads' given twice in [profile] (first on line 6)" "$BENCH" run --profile "$T/p.ini" --out "$T/r.json"
ini '  ; an indented comment is fine\nmin_time = 0.01 ; and so is a comment after a space\n'
expect 0 "scan/sequential/" "$BENCH" run --profile "$T/p.ini" --out "$T/r.json" --benchmark_list_tests=true
expect 2 "--set: control character (byte 0x0a)" "$BENCH" run --set "$(printf 'seq=1\n2')" --out "$T/r.json"
printf '[platform]\nname = x\ncores = 2\n  threads = 2\n' > "$T/pl.ini"
expect 2 "pl.ini:4: indented line" "$BENCH" run --platform "$T/pl.ini" --out "$T/r.json"

# ---- JSON: duplicate keys ----
cat > "$T/dup.json" <<'JSON'
{"context": {"itera_platform": "embedded"}, "benchmarks": [
 {"name": "scan/sequential/channels:8/state:4/seq:16/batch:1/threads:1", "run_type": "iteration",
  "real_time": 10, "real_time": 1, "cpu_time": 1, "time_unit": "ns", "iterations": 1}]}
JSON
expect 2 "duplicate object key" "$BENCH" report "$T/dup.json" -o "$T/rep"
expect 2 "duplicate object key" "$BENCH" compare "$T/dup.json" "$T/dup.json"
mkdir -p "$T/md" && cp "$T/m/model.safetensors" "$T/md/"
sed 's/"hidden_size": 32,/"hidden_size": 32, "hidden_size": 64,/' "$T/m/config.json" > "$T/md/config.json"
expect 2 "config.json:4: not valid JSON: duplicate object key near '\"hidden_size\"'" "$ITERA" info --model "$T/md"

# ---- the journal: a symbolic link is not followed (its target was truncated) ----
echo "precious" > "$T/victim"
ln -s "$T/victim" "$T/j.json.journal"
ini 'min_time = 0.01\n'
expect 2 "j.json.journal: is a symbolic link, not a regular file; refusing to write the journal there" "$BENCH" run --profile "$T/p.ini" --out "$T/j.json"
expect 0 "precious" cat "$T/victim"
rm -f "$T/j.json.journal" && mkfifo "$T/j.json.journal"
expect 2 "j.json.journal: is a device, FIFO or socket" lim "$BENCH" run --profile "$T/p.ini" --out "$T/j.json"

# ---- outputs that are not regular files: refused before anything runs, left as they were ----
expect 2 "/dev/null: is a character device, not a regular file; refusing to replace it" "$ITERA" profile --reps 1 --seq 4 --json /dev/null
expect 2 "/dev/null: is a device, FIFO or socket, not a regular file; refusing to write the results there" "$BENCH" run --profile "$T/p.ini" --out /dev/null
expect 0 "crw" ls -l /dev/null
expect 2 "No such file" ls /dev/null.journal
ln -s "$T/victim" "$T/out-link.json"
expect 2 "out-link.json: is a symbolic link, not a regular file; refusing to write the results there" "$BENCH" run --profile "$T/p.ini" --out "$T/out-link.json"
expect 0 "precious" cat "$T/victim"

# ---- models: bytes the format forbids, overflowing activations, vocab 4, huge contexts ----
expect 2 "16 bytes after the last tensor's data" "$ITERA" info --model "$T/extra"
for q in fp32 int8 int4; do
    expect 2 "the model's logits are not finite (NaN" "$ITERA" generate --model "$T/huge" --quant $q -n 3 --prompt "w5 w6"
done
printf 'w5 w6 w7 w8 w9 w10\n' > "$T/t.txt"
expect 2 "logits are not finite" "$ITERA" perplexity --model "$T/huge" --quant int4 --text "$T/t.txt" --seq 4
expect 0 "wall_forward_us" "$ITERA" profile --model "$T/v4" --seq 4 --reps 2
expect 2 "4096 x 1048576 = 4294967296 token rows" "$ITERA" profile --model "$T/long" --batch 4096 --seq 1048576 --reps 1

# ---- size: reading is linear (hash by name); the old code took minutes on these ----
python3 - "$T" <<'PY'
import json, random, sys
d = sys.argv[1]
random.seed(1)
name = "prefill/fp32/sequential/seq:16/batch:1/threads:1"
reps = list(range(40000))
random.shuffle(reps)   # repetition_index out of order: the old insertion was quadratic
with open(d + "/one.json", "w") as f:
    f.write('{"context": {"itera_platform": "embedded"}, "benchmarks": [')
    f.write(",".join(json.dumps({"name": name, "run_name": name, "run_type": "iteration",
                                 "repetitions": len(reps), "repetition_index": r, "iterations": 1,
                                 "real_time": 100 + r % 7, "cpu_time": 100, "time_unit": "ns"})
                     for r in reps))
    f.write("]}\n")
v = lambda n: ", ".join(str(i + 1) for i in range(n))
with open(d + "/big.ini", "w") as f:  # 3 x 32 x 32 x 32 = 98304 cells
    f.write("[profile]\nfamilies = scan\nscan_channels = %s\nscan_state = %s\nscan_seq = %s\n"
            "scan_batch = 1\nthreads = 1\n" % (v(32), v(32), v(32)))
PY
expect 0 "1 benchmark in both" timeout 60 "$BENCH" compare "$T/one.json" "$T/one.json"
expect 0 "scan/chunked/channels:32/state:32/seq:32" timeout 30 "$BENCH" run --profile "$T/big.ini" --out "$T/big.json" --benchmark_list_tests=true

finish "strict inputs CLI"
