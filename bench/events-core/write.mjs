#!/usr/bin/env node
// Event write path: ds01 (events-core logEvent) side by side with the
// original's write path, in one run, as ratios (these machines are noisy).
//
//   node bench/events-core/write.mjs [--events 200000] [--procs 4] [--spawn 50]
//
// 1. in-process: one process appending N events with logEvent
// 2. the original's library path: a Python loop that builds the v1 envelope,
//    json.dumps it and appends with open/write/close per event (as ds01_events.py)
// 3. child processes: P processes writing N/P events each at once, into one file
// 4. one process per event: the original's shell path (a python3 start per
//    event) vs a node start per event through events-core
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const core = path.resolve(here, '../../packages/events-core/dist/index.js');
const arg = (name, dflt) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : dflt;
};
const N = arg('events', 200_000);
const P = arg('procs', 4);
const SPAWN = arg('spawn', 50);
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ds01-bench-'));
const details = { container: 'train-job-42', container_id: 'f3c27b2195f0', image: 'pytorch:2.1', container_type: 'docker' };

function countLines(file) {
  return fs.readFileSync(file, 'utf8').split('\n').length - 1;
}

async function inProcess() {
  const file = path.join(dir, 'inproc.jsonl');
  const { logEvent, closeEventLogs } = await import(core);
  // Steady state: let the JIT settle on a separate file first, as a long-running writer would.
  const warm = path.join(dir, 'warm.jsonl');
  for (let i = 0; i < 20_000; i++) logEvent('container.start', { user: 'alice', source: 'bench', file: warm, details });
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < N; i++) logEvent('container.start', { user: 'alice', source: 'bench', file, details });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  closeEventLogs();
  if (countLines(file) !== N) throw new Error('lost events');
  return ms;
}

const PY = `
import json, sys, time, os
from datetime import datetime, timezone
path, n = sys.argv[1], int(sys.argv[2])
t0 = time.perf_counter()
for i in range(n):
    ev = {"timestamp": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ"), "event_type": "container.start", "schema_version": "1", "user": "alice", "source": "bench",
          "details": {"container": "train-job-42", "container_id": "f3c27b2195f0", "image": "pytorch:2.1", "container_type": "docker"}}
    line = json.dumps(ev, separators=(",", ":"))
    if len(line.encode()) > 4000: pass
    with open(path, "a") as f:
        f.write(line + "\\n")
print((time.perf_counter() - t0) * 1000)
`;

function pythonLoop() {
  const file = path.join(dir, 'python.jsonl');
  const out = execFileSync('python3', ['-c', PY, file, String(N)], { encoding: 'utf8' });
  if (countLines(file) !== N) throw new Error('python lost events');
  return Number(out.trim());
}

function run(cmd, args, env = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: 'ignore', env: { ...process.env, ...env } });
    child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`${cmd} exited ${code}`))));
  });
}

async function childProcesses() {
  const file = path.join(dir, 'children.jsonl');
  const script = `const { logEvent } = await import(${JSON.stringify(core)}); const d = ${JSON.stringify(details)};
    for (let i = 0; i < ${Math.floor(N / P)}; i++) logEvent('container.start', { user: 'alice', source: 'bench', details: d });`;
  const t0 = process.hrtime.bigint();
  await Promise.all(
    Array.from({ length: P }, () => run(process.execPath, ['--input-type=module', '-e', script], { DS01_EVENTS_FILE: file })),
  );
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  const expected = Math.floor(N / P) * P;
  if (countLines(file) !== expected) throw new Error('children lost events');
  return { ms, events: expected };
}

async function processPerEvent() {
  const pyFile = path.join(dir, 'py-per-event.jsonl');
  const nodeFile = path.join(dir, 'node-per-event.jsonl');
  const pyOne = PY.replace('n = sys.argv[1], int(sys.argv[2])', 'n = sys.argv[1], 1');
  const nodeOne = `const { logEvent } = await import(${JSON.stringify(core)}); logEvent('container.start', { user: 'alice', source: 'bench', details: ${JSON.stringify(details)} });`;
  let t0 = process.hrtime.bigint();
  for (let i = 0; i < SPAWN; i++) await run('python3', ['-c', pyOne, pyFile, '1']);
  const py = Number(process.hrtime.bigint() - t0) / 1e6 / SPAWN;
  t0 = process.hrtime.bigint();
  for (let i = 0; i < SPAWN; i++) await run(process.execPath, ['--input-type=module', '-e', nodeOne], { DS01_EVENTS_FILE: nodeFile });
  const node = Number(process.hrtime.bigint() - t0) / 1e6 / SPAWN;
  return { py, node };
}

const fmt = (n) => Math.round(n).toLocaleString('en-US');
try {
  const ours = await inProcess();
  const theirs = pythonLoop();
  const kids = await childProcesses();
  const per = await processPerEvent();
  const oursRate = (N / ours) * 1000;
  const theirRate = (N / theirs) * 1000;
  console.log(`events per run: ${N}, ${os.cpus().length} CPUs, node ${process.version}`);
  console.log(`in-process  ds01 logEvent          ${fmt(oursRate)} events/s  ${((ours * 1000) / N).toFixed(2)} µs/event`);
  console.log(`in-process  original (python loop) ${fmt(theirRate)} events/s  ${((theirs * 1000) / N).toFixed(2)} µs/event`);
  console.log(`ratio ds01 / original: ${(oursRate / theirRate).toFixed(2)}x`);
  console.log(
    `${P} child processes, one file  ${fmt((kids.events / kids.ms) * 1000)} events/s together (${fmt(kids.events)} lines, none lost)`,
  );
  console.log(
    `one process per event: original (python3 start) ${per.py.toFixed(1)} ms/event, ds01 (node start) ${per.node.toFixed(1)} ms/event`,
  );
} finally {
  fs.rmSync(dir, { recursive: true, force: true });
}
