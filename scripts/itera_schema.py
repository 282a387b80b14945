"""itera_schema.py: the harness's results schema (bench/schema.h) for Python scripts.

The schema comes from the harness itself, `itera-bench schema --json`, so a script writes
exactly the names the C side reads: benchmark names built from the families' part lists,
counters, context keys and top-level keys. `check(doc)` lists every name of a results
document the schema does not know (a peer's own names are allowed under its prefix:
context / top-level keys "itera_<peer>_...", counters "<peer>_...").

    import itera_schema
    S = itera_schema.load()                      # runs $ITERA_BENCH_BIN or build/itera-bench
    name = S.bench_name("prefill", quant="fp32", kernel="pytorch-eager", seq=128, batch=1, threads=2)
    problems = S.check({"context": ctx, "benchmarks": entries})   # [] when every name is known

Errors: SchemaError (a subclass of ValueError) with a message naming the binary, the
family, part or key.
"""
import json
import os
import re
import subprocess

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
WORD = re.compile(r"^[a-z0-9._-]{1,31}$")
NUMBER_MAX = 100000000


class SchemaError(ValueError):
    """A name that does not fit the schema, or no schema to read."""


def itera_bench_bin():
    """The harness's CLI: $ITERA_BENCH_BIN, else build/itera-bench of this checkout."""
    return os.environ.get("ITERA_BENCH_BIN") or os.path.join(REPO, "build", "itera-bench")


class Schema:
    def __init__(self, doc):
        self.doc = doc
        self.version = doc["schema"]
        self.families = {f["name"]: f["parts"] for f in doc["families"]}
        self.patterns = {f["name"]: f["pattern"] for f in doc["families"]}
        self.kernels = list(doc["kernels"])
        self.quants = list(doc["quants"])
        self.counters = {c["name"] for c in doc["counters"]}
        self.per_token_suffix = doc["per_token_suffix"]
        self.context_keys = {c["key"]: c["source"] for c in doc["context_keys"]}
        self.top_keys = {c["key"] for c in doc["top_keys"]}
        self.entry_fields = {c["key"] for c in doc["entry_fields"]}
        self.peers = {p["name"]: (p["context_prefix"], p["counter_prefix"]) for p in doc["peers"]}

    # ---- names ----

    def bench_name(self, family, **parts):
        """The benchmark name of family with its parts (quant, kernel: words; the rest:
        whole numbers >= 1), as bench_name_format builds it."""
        if family not in self.families:
            raise SchemaError(f"benchmark name: family '{family}' is not one of {', '.join(self.families)}")
        want = self.families[family]
        extra = set(parts) - set(want)
        if extra:
            raise SchemaError(f"{family} name: no part {', '.join(sorted(extra))} (parts: {', '.join(want)})")
        out = [family]
        for p in want:
            if p not in parts:
                raise SchemaError(f"{family} name: part {p} is missing ({self.patterns[family]})")
            v = parts[p]
            if p in ("quant", "kernel"):
                if not isinstance(v, str) or not WORD.match(v):
                    raise SchemaError(f"{family} name: {p} '{v}': expected 1 to 31 of a-z, 0-9, '.', '_', '-'")
                out.append(v)
            else:
                if isinstance(v, bool) or not isinstance(v, int) or not 1 <= v <= NUMBER_MAX:
                    raise SchemaError(f"{family} name: {p} {v!r}: expected a whole number in 1..{NUMBER_MAX}")
                out.append(f"{p}:{v}")
        return "/".join(out)

    # ---- keys ----

    def _peer_prefixed(self, key, which):
        return any(key.startswith(pre[which]) and len(key) > len(pre[which]) for pre in self.peers.values())

    def is_context_key(self, key):
        return key in self.context_keys or self._peer_prefixed(key, 0)

    def is_counter(self, name):
        s = self.per_token_suffix
        return (name in self.counters or (name.endswith(s) and len(name) > len(s))
                or self._peer_prefixed(name, 1))

    def is_top_key(self, key):
        """A key of a results file's top level: context, benchmarks, the harness's itera_*
        objects, or a peer's own (the op profile's inner keys are not top-level)."""
        return ((key in self.top_keys and (key in ("context", "benchmarks") or key.startswith("itera_")))
                or self._peer_prefixed(key, 0))

    def check(self, doc):
        """Every name in a results document ({"context", "benchmarks", ...}) the schema does
        not know, as one line each ("context key '<key>'", "benchmarks[3] 'prefill/...':
        counter 'tok_s'", "benchmark name '...'"). [] when all are known."""
        problems = []
        for k in doc:
            if not self.is_top_key(k):
                problems.append(f"top-level key '{k}'")
        for k in (doc.get("context") or {}):
            if not self.is_context_key(k):
                problems.append(f"context key '{k}'")
        for i, e in enumerate(doc.get("benchmarks") or []):
            name = e.get("run_name") or e.get("name", "")
            if not self.name_ok(name):
                problems.append(f"benchmarks[{i}]: benchmark name '{name}' is not {' or '.join(self.patterns.values())}")
            for k in e:
                if k not in self.entry_fields and not self.is_counter(k):
                    problems.append(f"benchmarks[{i}] '{name}': counter '{k}'")
        return problems

    def name_ok(self, name):
        """Whether name is one of ours in shape (GB's own parts after it allowed)."""
        parts = name.split("/")
        fam = parts[0]
        if fam not in self.families:
            return False
        want = self.families[fam]
        if len(parts) < 1 + len(want):
            return False
        for p, got in zip(want, parts[1:]):
            if p in ("quant", "kernel"):
                if not WORD.match(got):
                    return False
            else:
                m = re.match(rf"^{p}:([0-9]+)$", got)
                if not m or not 1 <= int(m.group(1)) <= NUMBER_MAX:
                    return False
        sfx = self.doc["gb_name_suffixes"]
        for extra in parts[1 + len(want):]:
            if not any((s.endswith(":") and extra.startswith(s) and len(extra) > len(s)) or extra == s for s in sfx):
                return False
        return True


_cache = {}


def load(bench=None):
    """The schema of the harness binary (default itera_bench_bin()). Raises SchemaError."""
    exe = bench or itera_bench_bin()
    if exe in _cache:
        return _cache[exe]
    if not os.access(exe, os.X_OK):
        raise SchemaError(f"{exe}: not built; it prints the results schema (run: make build)")
    try:
        r = subprocess.run([exe, "schema", "--json"], capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.SubprocessError) as e:
        raise SchemaError(f"{exe} schema --json: {e}")
    if r.returncode != 0:
        raise SchemaError(f"{exe} schema --json failed (exit {r.returncode}): {r.stderr.strip()}")
    try:
        s = Schema(json.loads(r.stdout))
    except (ValueError, KeyError, TypeError) as e:
        raise SchemaError(f"{exe} schema --json: not a schema document ({e})")
    _cache[exe] = s
    return s
