#!/usr/bin/env node
// Benchmark of ds01-docker-watch: events per second it sustains and its
// resident memory after 10,000 events, against a stand-in Docker API (a unix
// socket serving /events as fast as the reader takes them, and inspect).
// Side by side in the same run, the floor: a bare reader that parses each line
// and appends it to a file (no inspect, no owner, no state). Ratios are printed.
//
//   npx tsc -p packages/events-core/tsconfig.json && npx tsc -p packages/docker-wrapper/tsconfig.json
//   node bench/docker-watch/throughput.mjs [--events 10000] [--cpu-prof-dir DIR]
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../', import.meta.url));
const watchBin = path.join(root, 'packages/docker-wrapper/dist/bin/ds01-docker-watch.js');
const argEvents = process.argv.indexOf('--events');
const argProf = process.argv.indexOf('--cpu-prof-dir');
const profDir = argProf > 0 ? process.argv[argProf + 1] : undefined;
const TOTAL = argEvents > 0 ? Number(process.argv[argEvents + 1]) : 10_000;
const PER_CONTAINER = 4; // create, start, die, destroy
const containers = Math.ceil(TOTAL / PER_CONTAINER);

function idOf(i) {
  return i.toString(16).padStart(12, '0').repeat(6).slice(0, 64);
}

// Half the containers come from the wrapper (managed: no inspect on create), one in ten asks for a GPU.
function labelsOf(i) {
  const labels = { 'ds01.user': `user${i % 40}` };
  if (i % 2 === 0) labels['ds01.managed'] = 'true';
  return labels;
}

function eventLine(seq) {
  const i = Math.floor(seq / PER_CONTAINER);
  const action = ['create', 'start', 'die', 'destroy'][seq % PER_CONTAINER];
  const attributes = { ...labelsOf(i), image: 'bench:latest', name: `bench-${i}` };
  if (action === 'die') attributes.exitCode = i % 7 === 0 ? '137' : '0';
  // Stamped when served, as Docker stamps an event when it happens (a nanosecond apart at most once).
  const nano = BigInt(Math.round((performance.timeOrigin + performance.now()) * 1000)) * 1000n + BigInt(seq % 1000);
  const ev = {
    status: action,
    id: idOf(i),
    from: 'bench:latest',
    Type: 'container',
    Action: action,
    Actor: { ID: idOf(i), Attributes: attributes },
    scope: 'local',
    time: Number(nano / 1_000_000_000n),
  };
  return `${JSON.stringify(ev).slice(0, -1)},"timeNano":${nano}}\n`;
}

function inspectOf(id) {
  const i = Number.parseInt(id.slice(0, 12), 16);
  const gpu = i % 10 === 0;
  return {
    Id: id,
    Name: `/bench-${i}`,
    Config: { Labels: labelsOf(i), Image: 'bench:latest', Env: [] },
    HostConfig: { Memory: 0, DeviceRequests: gpu ? [{ Driver: 'nvidia', Count: -1, Capabilities: [['gpu']] }] : null },
    State: { Running: false, OOMKilled: false, StartedAt: new Date(Date.now() - 5000).toISOString(), FinishedAt: new Date().toISOString() },
  };
}

/** A stand-in daemon: serves TOTAL events once per run, as fast as the client reads them. */
function fakeDocker(socket) {
  const stats = { served: 0, startedAt: 0, inspects: 0 };
  const server = http.createServer((req, res) => {
    const url = new URL(req.url, 'http://docker');
    if (url.pathname.endsWith('/_ping')) return res.end('OK');
    if (/\/containers\/[0-9a-f]+\/json$/.test(url.pathname)) {
      stats.inspects += 1;
      res.setHeader('Content-Type', 'application/json');
      return res.end(JSON.stringify(inspectOf(url.pathname.split('/').at(-2))));
    }
    if (url.pathname.endsWith('/events')) {
      res.writeHead(200, { 'Content-Type': 'application/json' });
      if (url.searchParams.get('until')) return res.end();
      let seq = 0;
      stats.startedAt = performance.now();
      const pump = () => {
        while (seq < TOTAL) {
          const ok = res.write(eventLine(seq));
          seq += 1;
          stats.served = seq;
          if (!ok) return res.once('drain', pump);
        }
      };
      pump();
      return undefined;
    }
    res.statusCode = 404;
    res.end('{"message":"not found"}');
  });
  return new Promise((resolve) => server.listen(socket, () => resolve({ server, stats })));
}

function rssKiB(pid) {
  try {
    return Number(/VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0);
  } catch {
    return 0;
  }
}

/** Counts newlines incrementally (re-reading the whole log every poll would make the harness the bottleneck). */
function lineCounter(file) {
  let offset = 0;
  let lines = 0;
  return () => {
    let fd;
    try {
      fd = fs.openSync(file, 'r');
    } catch {
      return lines;
    }
    try {
      const buf = Buffer.alloc(1 << 20);
      for (;;) {
        const n = fs.readSync(fd, buf, 0, buf.length, offset);
        if (n <= 0) break;
        offset += n;
        for (let i = buf.indexOf(10); i !== -1 && i < n; i = buf.indexOf(10, i + 1)) lines += 1;
      }
    } finally {
      fs.closeSync(fd);
    }
    return lines;
  };
}

/** Runs one reader against a fresh stand-in and waits until `expected` lines reached its output. */
async function measure(name, command, args, envExtra, outFile, expected, outAsArg = false) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `ds01-bench-${name}-`));
  const socket = path.join(dir, 'docker.sock');
  const { server, stats } = await fakeDocker(socket);
  const out = path.join(dir, outFile);
  const gpuStub = path.join(dir, 'ds01-gpu');
  fs.writeFileSync(gpuStub, '#!/bin/sh\necho \'{"status":"ok","released":[],"dry_run":false}\'\n', { mode: 0o755 });
  const child = spawn(command, outAsArg ? [...args, out] : args, {
    env: {
      ...process.env,
      DOCKER_HOST: `unix://${socket}`,
      DS01_EVENTS_FILE: out,
      DS01_STATE_DIR: path.join(dir, 'state'),
      DS01_GPU_BIN: gpuStub,
      BENCH_OUT: out,
      ...envExtra,
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  let rssAt1k = 0;
  const series = [];
  const countLines = lineCounter(out);
  for (;;) {
    await new Promise((r) => setTimeout(r, 20));
    const n = countLines();
    if (!rssAt1k && n >= Math.min(1000, expected)) rssAt1k = rssKiB(child.pid);
    if (n >= ((series.length + 1) * expected) / 5)
      series.push(`${Math.round(rssKiB(child.pid) / 1024)}@${((performance.now() - stats.startedAt) / 1000).toFixed(1)}s`);
    if (n >= expected) break;
    if (child.exitCode !== null) throw new Error(`${name} exited ${child.exitCode}`);
  }
  const seconds = (performance.now() - stats.startedAt) / 1000;
  const rss = rssKiB(child.pid);
  child.kill('SIGTERM');
  await new Promise((r) => child.once('exit', r));
  server.close();
  fs.rmSync(dir, { recursive: true, force: true });
  return { name, rate: TOTAL / seconds, seconds, rssAt1kMiB: rssAt1k / 1024, rssMiB: rss / 1024, inspects: stats.inspects, series };
}

const floorScript = `
const fs = require('node:fs'); const http = require('node:http');
const sock = process.env.DOCKER_HOST.slice('unix://'.length);
const fd = fs.openSync(process.argv[1], 'a');
http.get({ socketPath: sock, path: '/events?filters=%7B%22type%22%3A%5B%22container%22%5D%7D' }, (res) => {
  let rest = '';
  res.on('data', (c) => { const parts = (rest + c).split('\\n'); rest = parts.pop();
    for (const l of parts) { if (!l) continue; const e = JSON.parse(l); fs.writeSync(fd, JSON.stringify({ t: e.Action, id: e.id }) + '\\n'); } });
});`;

if (!fs.existsSync(watchBin)) {
  console.error(`${watchBin} is missing: build events-core and docker-wrapper first (see the header)`);
  process.exit(2);
}
console.log(
  `ds01-docker-watch benchmark: ${TOTAL} container events (${containers} containers x create/start/die/destroy), ${os.cpus().length} CPUs, load ${os.loadavg()[0].toFixed(1)}`,
);
const floor = await measure('floor', process.execPath, ['-e', floorScript], {}, 'floor.jsonl', TOTAL, true);
// The watcher writes one monitor.start line, and no create for managed containers (the wrapper logs those).
const managedCreates = Math.ceil(containers / 2);
const watch = await measure(
  'watcher',
  process.execPath,
  [...(profDir ? ['--cpu-prof', '--cpu-prof-dir', profDir] : []), watchBin],
  {},
  'events.jsonl',
  TOTAL - managedCreates + 1,
);
for (const r of [floor, watch]) {
  console.log(
    `${r.name.padEnd(8)} ${r.rate.toFixed(0).padStart(7)} events/s  (${r.seconds.toFixed(2)} s)  RSS ${r.rssAt1kMiB.toFixed(1)} MiB after 1,000 -> ${r.rssMiB.toFixed(1)} MiB after ${TOTAL} (MiB@time at each fifth: ${r.series.join(', ')})  inspects ${r.inspects}`,
  );
}
console.log(
  `watcher / floor: ${(watch.rate / floor.rate).toFixed(2)}x rate; target 500 events/s: ${watch.rate >= 500 ? 'met' : 'NOT met'} (${(watch.rate / 500).toFixed(1)}x)`,
);
