#!/usr/bin/env node
// peer_ort.js: ONNX Runtime sessions for scripts/peer_ort.py, driven over stdin/stdout.
//
//     node scripts/peer_ort.js ORT_NODE_DIR     (ORT_NODE_DIR: .../node_modules/onnxruntime-node)
//
// One JSON request per line on stdin, one JSON reply per line on stdout ({"ok": true, ...}
// or {"ok": false, "error": "..."}); the process keeps its sessions until "quit" or EOF, so
// the driver can interleave configurations (and thread counts, one process per CPU set).
// Requests:
//   {"cmd": "hello"}                    -> versions of onnxruntime-node, its library, Node.js
//   {"cmd": "open", "id": S, "kind": "prefill"|"decode", "path": ONNX, "options": {...},
//    "ids": [...], "shape": [B, L], "states": [[dims]...], "steps": S}
//        a session with those SessionOptions (intraOpNumThreads, interOpNumThreads,
//        executionMode, graphOptimizationLevel, extra) and its inputs: prefill feeds
//        input_ids [B, L] int64; decode runs `steps` steps from zero state, step l feeding
//        ids[l] ([1, 1]) and position l, then the state outputs as the next inputs.
//        Runs it `warmup` times. -> create_ms, warmup_ms
//   {"cmd": "logits", "id": S, "out": FILE}  one iteration; its logits as raw float32
//        (prefill [B, L, V]; decode [steps, V]) written to FILE
//   {"cmd": "time", "id": S, "min_time": SECONDS, "gap_ms": MS}
//        sleeps gap_ms (so spinning worker threads of the previous session settle), runs
//        one untimed iteration (caches warm again), then times iterations until min_time
//        has passed (at least one); -> iterations, wall_ns, cpu_ns (this process, all
//        threads: process.cpuUsage)
//   {"cmd": "rss"}                      -> max_rss_kb (getrusage of this process)
//   {"cmd": "quit"}
// Timing goes through the public API (await session.run), the way a Node.js user calls it.
'use strict';

const fs = require('fs');
const path = require('path');
const readline = require('readline');

const ortDir = process.argv[2];
if (!ortDir) {
  process.stderr.write('peer_ort.js: usage: node scripts/peer_ort.js ORT_NODE_DIR\n');
  process.exit(2);
}
let ort;
try {
  ort = require(path.resolve(ortDir));
} catch (e) {
  process.stderr.write(`peer_ort.js: cannot load onnxruntime-node from ${ortDir}: ${e.message}\n`);
  process.exit(2);
}

const sessions = new Map();
const sleeper = new Int32Array(new SharedArrayBuffer(4));

function int64Tensor(values, dims) {
  return new ort.Tensor('int64', BigInt64Array.from(values.map((v) => BigInt(v))), dims);
}

function zeros(dims) {
  return new ort.Tensor('float32', new Float32Array(dims.reduce((a, b) => a * b, 1)), dims);
}

// One iteration: a prefill forward, or `steps` decode steps from zero state.
// Returns the logits data (Float32Array) when keep is true.
async function iterate(s, keep) {
  const sess = s.session;
  if (s.kind === 'prefill') {
    const out = await sess.run(s.feeds);
    return keep ? out[sess.outputNames[0]].data : null;
  }
  const names = sess.inputNames;
  const outNames = sess.outputNames;
  const feeds = {};
  for (let k = 0; k < s.states.length; k++) feeds[names[2 + k]] = zeros(s.states[k]);
  const V = s.vocab;
  const all = keep ? new Float32Array(s.steps * V) : null;
  for (let l = 0; l < s.steps; l++) {
    feeds[names[0]] = s.stepIds[l];
    feeds[names[1]] = s.stepPos[l];
    const out = await sess.run(feeds);
    if (keep) all.set(out[outNames[0]].data, l * V);
    for (let k = 0; k < s.states.length; k++) feeds[names[2 + k]] = out[outNames[1 + k]];
  }
  return all;
}

async function handle(req) {
  switch (req.cmd) {
    case 'hello': {
      let pkg = {};
      try {
        pkg = JSON.parse(fs.readFileSync(path.join(path.resolve(ortDir), 'package.json'), 'utf8'));
      } catch (e) { /* version stays unknown */ }
      return { onnxruntime_node: pkg.version || 'unknown', ort_env: ort.env.versions || {},
               node: process.version, backends: (ort.listSupportedBackends ? ort.listSupportedBackends() : []) };
    }
    case 'open': {
      const t0 = process.hrtime.bigint();
      const session = await ort.InferenceSession.create(req.path, req.options || {});
      const t1 = process.hrtime.bigint();
      const s = { kind: req.kind, session, steps: req.steps || 0, states: req.states || [] };
      if (req.kind === 'prefill') {
        s.feeds = { [session.inputNames[0]]: int64Tensor(req.ids, req.shape) };
      } else if (req.kind === 'decode') {
        if (session.inputNames.length !== 2 + s.states.length) {
          throw new Error(`${req.path}: ${session.inputNames.length} inputs, expected ids, position and ${s.states.length} states`);
        }
        s.stepIds = req.ids.slice(0, s.steps).map((v) => int64Tensor([v], [1, 1]));
        s.stepPos = Array.from({ length: s.steps }, (_, l) => int64Tensor([l], [1]));
        s.vocab = req.vocab;
      } else {
        throw new Error(`open: kind '${req.kind}': expected prefill or decode`);
      }
      sessions.set(req.id, s);
      const w = req.warmup === undefined ? 2 : req.warmup;
      for (let i = 0; i < w; i++) await iterate(s, false);
      const t2 = process.hrtime.bigint();
      return { id: req.id, create_ms: Number(t1 - t0) / 1e6, warmup_ms: Number(t2 - t1) / 1e6,
               inputs: session.inputNames, outputs: session.outputNames };
    }
    case 'logits': {
      const s = sessions.get(req.id);
      if (!s) throw new Error(`logits: no session '${req.id}'`);
      const data = await iterate(s, true);
      fs.writeFileSync(req.out, Buffer.from(data.buffer, data.byteOffset, data.byteLength));
      return { id: req.id, values: data.length };
    }
    case 'time': {
      const s = sessions.get(req.id);
      if (!s) throw new Error(`time: no session '${req.id}'`);
      if (req.gap_ms > 0) Atomics.wait(sleeper, 0, 0, req.gap_ms);
      await iterate(s, false); // untimed: caches warm again after the previous session ran
      const minNs = BigInt(Math.round((req.min_time || 0.1) * 1e9));
      const c0 = process.cpuUsage();
      const t0 = process.hrtime.bigint();
      let n = 0;
      let el = 0n;
      do {
        await iterate(s, false);
        n++;
        el = process.hrtime.bigint() - t0;
      } while (el < minNs);
      const c = process.cpuUsage(c0);
      return { id: req.id, iterations: n, wall_ns: Number(el), cpu_ns: (c.user + c.system) * 1000 };
    }
    case 'rss':
      return { max_rss_kb: process.resourceUsage().maxRSS };
    case 'quit':
      return { bye: true };
    default:
      throw new Error(`unknown request '${req.cmd}'`);
  }
}

const rl = readline.createInterface({ input: process.stdin, terminal: false });
const queue = [];
let busy = false;
async function drain() {
  if (busy) return;
  busy = true;
  while (queue.length) {
    const line = queue.shift();
    let reply;
    let quit = false;
    try {
      const req = JSON.parse(line);
      reply = Object.assign({ ok: true }, await handle(req));
      quit = req.cmd === 'quit';
    } catch (e) {
      reply = { ok: false, error: String(e && e.message ? e.message : e) };
    }
    process.stdout.write(JSON.stringify(reply) + '\n');
    if (quit) process.exit(0);
  }
  busy = false;
}
rl.on('line', (line) => { if (line.trim()) { queue.push(line); drain(); } });
rl.on('close', () => { const wait = () => (busy || queue.length ? setTimeout(wait, 10) : process.exit(0)); wait(); });
