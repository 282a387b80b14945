#!/usr/bin/env python3
"""make_corpus.py: writes the seed corpora fuzz/corpus/<target>/seed-* (small files made
here; no reference data). Run from the repository root after `make build`:

    python3 fuzz/make_corpus.py [BUILD]

Seeds are a starting point for `make fuzz`; the reproducers of crashes found later are
added to the same folders by hand (named crash-*), and `make test` replays them all.
Existing seed-* files are replaced; other files are kept.
"""
import glob
import gzip
import json
import os
import shutil
import struct
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tests"))
import make_model  # noqa: E402

BUILD = sys.argv[1] if len(sys.argv) > 1 else "build"
OUT = os.path.join(os.path.dirname(__file__), "corpus")


def st_bytes(tensors, meta=None, extra=b""):
    """A safetensors file: tensors is [(name, dtype, shape, data)]."""
    hdr, off, blobs = {}, 0, []
    if meta:
        hdr["__metadata__"] = meta
    for name, dtype, shape, data in tensors:
        hdr[name] = {"dtype": dtype, "shape": shape, "data_offsets": [off, off + len(data)]}
        blobs.append(data)
        off += len(data)
    h = json.dumps(hdr, separators=(",", ":")).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    return struct.pack("<Q", len(h)) + h + b"".join(blobs) + extra


def put(target, name, data):
    d = os.path.join(OUT, target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "seed-" + name), "wb") as f:
        f.write(data if isinstance(data, bytes) else data.encode())


def tiny_model(tmp, name, **kw):
    args = ["--vocab", "8", "--hidden", "32", "--seq", "4", "--experts", "2", "--expand", "1"]
    for k, v in kw.items():
        args += ["--" + k.replace("_", "-"), str(v)]
    d = os.path.join(tmp, name)
    subprocess.run([sys.executable, "tests/make_model.py", d] + args, check=True)
    return d


def folder_seed(d, int8=False):
    """config.json NUL model.safetensors; int8: config.json padded to a length of 1 mod 4
    (the harness then also loads the model quantized to int8), else to 0 mod 4."""
    with open(os.path.join(d, "config.json"), "rb") as f:
        cfg = f.read().rstrip()
    while len(cfg) % 4 != (1 if int8 else 0):
        cfg += b" "
    with open(os.path.join(d, "model.safetensors"), "rb") as f:
        st = f.read()
    return cfg + b"\0" + st


def main():
    for old in glob.glob(os.path.join(OUT, "*", "seed-*")):
        os.remove(old)
    tmp = tempfile.mkdtemp(prefix="itera-corpus-")
    try:
        f32 = lambda *v: struct.pack("<%df" % len(v), *v)
        # safetensors: valid small files, then the shapes of the bugs it refuses
        put("safetensors", "two", st_bytes([("a", "F32", [2], f32(1, 2)), ("b", "U8", [3], b"xyz")],
                                           {"k": "v"}))
        put("safetensors", "empty", st_bytes([]))
        put("safetensors", "zero-size", st_bytes([("z", "F32", [0, 4], b""), ("i", "I32", [1, 1], b"\1\0\0\0")]))
        put("safetensors", "trailing", st_bytes([("a", "F32", [1], f32(1))], extra=b"\0" * 8))
        put("safetensors", "overlap", b'\x58\0\0\0\0\0\0\0{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},'
            b'"b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}' + b"\0" * 8)
        put("safetensors", "wrap", b'\x48\0\0\0\0\0\0\0{"a":{"dtype":"F32","shape":[4294967296,4294967296],'
            b'"data_offsets":[0,0]}}   ')
        # model folders: config.json NUL model.safetensors (FP32; int8 and int4 as written
        # by itera quantize; a MoE layer; weights large enough to overflow)
        d = tiny_model(tmp, "f32", layers=2, moe="1")
        put("model", "fp32-moe", folder_seed(d, int8=True))  # also loaded as int8
        put("model", "fp32-dense", folder_seed(tiny_model(tmp, "dense", layers=1, moe="")))
        put("model", "overflow", folder_seed(tiny_model(tmp, "big", layers=1, moe="", scale=60000)))
        for q in ("int8", "int4"):
            out = os.path.join(tmp, q)
            subprocess.run([os.path.join(BUILD, "itera"), "quantize", "--model", d, "--quant", q,
                            "--out", out], check=True, stdout=subprocess.DEVNULL)
            put("model", q, folder_seed(out))
        # golden files for the built-in micro model (vocab 2000): one good, two bad
        ids = struct.pack("<2i", 5, 6)
        put("golden", "b1-l2", st_bytes([("input_ids", "I32", [1, 2], ids),
                                         ("logits", "F32", [1, 2, 2000], bytes(4 * 2 * 2000))]))
        put("golden", "bad-token", st_bytes([("input_ids", "I32", [1, 1], struct.pack("<i", 2000)),
                                             ("logits", "F32", [1, 1, 2000], bytes(4 * 2000))]))
        put("golden", "bad-shape", st_bytes([("input_ids", "I32", [2, 1], ids),
                                             ("logits", "F32", [2, 1, 3], bytes(4 * 6))]))
        # tokenizer.json NUL text
        words = ["<pad>", "<unk>", "<bos>", "<eos>", "once", "upon", "a", "time", "caf\u00e9"]
        tok = json.dumps({"token_to_id": {w: i for i, w in enumerate(words)},
                          "id_to_token": {str(i): w for i, w in enumerate(words)}}).encode()
        put("tokenizer", "words", tok + b"\0" + "Once upon a TIME caf\u00e9 unknown\n".encode())
        put("tokenizer", "vocab-size", b'{"token_to_id": {"a": 4}, "vocab_size": 10}\0a b a\n')
        put("tokenizer", "text-nul", tok + b"\0once\0upon")
        # INI: byte 0 even = platform, odd = profile; NUL; --set lines
        for p in sorted(glob.glob("platforms/*.ini")):
            put("ini", "platform-" + os.path.basename(p), b"\0" + open(p, "rb").read())
        for p in sorted(glob.glob("profiles/*.ini")):
            put("ini", "profile-" + os.path.basename(p), b"\1" + open(p, "rb").read())
        put("ini", "profile-sets", b"\1[profile]\nfamilies = scan, prefill\nthreads = 1, platform\n\0"
            b"seq=16,32\nquants=int8\nthreads=platform,2\ndescription=x y\n")
        put("ini", "profile-quirks", b"\1[profile]\ndescription = a\n  continued\nseq: 4\n")
        # results files: the test fixtures (made by tests/data/make_fixtures.py)
        for name in ("desktop_emulated", "host_failures", "laptop_opprofile", "compare_base"):
            put("results", name + ".json", open("tests/data/%s.json" % name, "rb").read())
        put("results", "nan.json", b'{"context": {}, "benchmarks": [{"name": "scan/sequential/channels:8/'
            b'state:4/seq:16/batch:1/threads:1", "run_type": "iteration", "real_time": NaN, '
            b'"cpu_time": -Infinity, "time_unit": "us", "iterations": 1}]}')
        # gzip-compressed results files (FILE.json.gz): one member, two members, a cut one
        fixture = open("tests/data/compare_base.json", "rb").read()
        one = gzip.compress(fixture, compresslevel=9, mtime=0)
        two = gzip.compress(fixture[:300], mtime=0) + gzip.compress(fixture[300:], mtime=0)
        put("gunzip", "one-member", one)
        put("gunzip", "two-members", two)
        put("gunzip", "cut", one[: len(one) // 2])
        put("gunzip", "trailing-junk", one + b"not gzip")
        # a journal from a real (tiny) run, and one cut short
        prof = os.path.join(tmp, "tiny.ini")
        with open(prof, "w") as f:
            f.write("[profile]\nfamilies = scan, decode\nkernels = sequential\nquants = fp32\n"
                    "scan_channels = 8\nscan_state = 4\nscan_seq = 16\nscan_batch = 1\nsteps = 2\n"
                    "threads = 1\nrepetitions = 2\nmin_time = 0.001\n")
        out = os.path.join(tmp, "run", "r.json")
        subprocess.run([os.path.join(BUILD, "itera-bench"), "run", "--platform", "embedded",
                        "--profile", prof, "--out", out], check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        lines = open(out + ".journal", "rb").read().split(b"\n")
        head = json.loads(lines[0])
        head["context"] = {"itera_platform": "embedded", "itera_profile": "tiny"}  # not this machine's
        j = b"\n".join([json.dumps(head, separators=(",", ":")).encode()] + lines[1:])
        put("journal", "run", j)
        put("journal", "cut", j[: len(j) - 40])
        put("journal", "dup", j + j.split(b"\n", 1)[1])
    finally:
        shutil.rmtree(tmp)
    for t in sorted(os.listdir(OUT)):
        files = glob.glob(os.path.join(OUT, t, "*"))
        print("%-12s %3d files %7d bytes" % (t, len(files), sum(os.path.getsize(x) for x in files)))


if __name__ == "__main__":
    main()
