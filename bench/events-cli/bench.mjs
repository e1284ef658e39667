// ds01-events on a generated 1,000,000-event log, side by side with jq and
// grep on the same file, in one run. Prints wall time (median of RUNS), CPU
// time and peak RSS of each command, the load average before and after, and
// each figure next to the issue's target.
// Usage: node bench/events-cli/bench.mjs [COUNT=1000000] [RUNS=3]
// (build first, with the bundled bin: npx tsc -p packages/events-core/tsconfig.json && npm run build -w @ds01/events-cli)
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const count = Number(process.argv[2] ?? 1_000_000);
const runs = Number(process.argv[3] ?? 3);
const dir = path.join(os.tmpdir(), 'ds01-events-bench');
const log = path.join(dir, `events-${count}.jsonl`);
const bin = path.join(root, 'packages/events-cli/dist/bin/ds01-events.cjs');
const timeBin = fs.existsSync('/usr/bin/time') ? '/usr/bin/time' : null;

fs.mkdirSync(dir, { recursive: true });
// The log ends at the time it was generated: an older one has nothing in the last hour, so --since 1h would measure nothing.
const stale = fs.existsSync(log) && Date.now() - fs.statSync(log).mtimeMs > 20 * 60_000;
if (!fs.existsSync(log) || stale) {
  const g = spawnSync(process.execPath, [path.join(root, 'bench/events-cli/generate.mjs'), log, String(count), '30'], { stdio: 'inherit' });
  if (g.status !== 0) process.exit(1);
}
const size = fs.statSync(log).size;

/** Runs argv with stdout to a file; returns wall seconds, CPU seconds, peak RSS (MB) and output lines. */
function measure(argv) {
  const out = path.join(dir, 'out.txt');
  const stats = path.join(dir, 'time.txt');
  const fd = fs.openSync(out, 'w');
  const started = process.hrtime.bigint();
  const r = timeBin
    ? spawnSync(timeBin, ['-f', '%U %S %M', '-o', stats, ...argv], {
        stdio: ['ignore', fd, 'pipe'],
        env: { ...process.env, NO_COLOR: '1' },
      })
    : spawnSync(argv[0], argv.slice(1), { stdio: ['ignore', fd, 'pipe'] });
  const wall = Number(process.hrtime.bigint() - started) / 1e9;
  fs.closeSync(fd);
  if (r.status !== 0) throw new Error(`${argv.join(' ')} exited ${r.status}: ${r.stderr}`);
  let cpu = Number.NaN;
  let rss = Number.NaN;
  if (timeBin) {
    const [u, s, m] = fs.readFileSync(stats, 'utf8').trim().split('\n').at(-1).split(' ').map(Number);
    cpu = u + s;
    rss = m / 1024;
  }
  const text = fs.readFileSync(out, 'utf8');
  const lines = text.length === 0 ? 0 : text.split('\n').filter(Boolean).length;
  return { wall, cpu, rss, lines, first: text.split('\n')[0] };
}

function median(argv) {
  const all = [];
  for (let i = 0; i < runs; i++) all.push(measure(argv));
  all.sort((a, b) => a.wall - b.wall);
  const mid = all[Math.floor(all.length / 2)];
  return { ...mid, rss: Math.max(...all.map((x) => x.rss)) };
}

const ev = (...args) => [process.execPath, bin, '--file', log, ...args];
// With an env prefix: the summary with its worker threads off, to show what they bring.
const oneThread = (...args) => ['/usr/bin/env', 'DS01_EVENTS_WORKERS=0', ...ev(...args)];
const cases = [
  ['ds01-events --limit 50', ev('--limit', '50')],
  ['ds01-events --since 1h', ev('--since', '1h')],
  ['ds01-events --since 1h --all --json', ev('--since', '1h', '--all', '--json')],
  ['ds01-events --type gpu.reject --all --json', ev('--type', 'gpu.reject', '--all', '--json')],
  ['jq -c \'select(.event_type=="gpu.reject")\'', ['jq', '-c', 'select(.event_type=="gpu.reject")', log]],
  ['ds01-events --summary', ev('--summary')],
  ['ds01-events --summary --json', ev('--summary', '--json')],
  ['  same, DS01_EVENTS_WORKERS=0 (one thread)', oneThread('--summary', '--json')],
  ['ds01-events --count', ev('--count')],
  ['ds01-events --count --type gpu.reject', ev('--count', '--type', 'gpu.reject')],
  ['grep -c gpu.reject', ['grep', '-c', 'gpu.reject', log]],
  ['node -e 0 (Node start-up alone)', [process.execPath, '-e', '0']],
];
const load = () =>
  os
    .loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');

console.log(`command: node bench/events-cli/bench.mjs ${count} ${runs}`);
console.log(
  `machine: ${os.availableParallelism()} cores (${os.cpus()[0]?.model ?? '?'}), Node ${process.version}, ${new Date().toISOString()}; load average at start: ${load()}`,
);
console.log(`log: ${log} (${count} events, ${(size / 1e6).toFixed(0)} MB), ${runs} runs each, median wall time, CPU = user+sys`);
const results = new Map();
for (const [name, argv] of cases) {
  const r = median(argv);
  results.set(name, r);
  console.log(
    `${name.padEnd(46)} ${r.wall.toFixed(3).padStart(7)} s wall ${r.cpu.toFixed(2).padStart(6)} s cpu ${r.rss.toFixed(0).padStart(5)} MB rss  ${String(r.lines).padStart(7)} lines`,
  );
}
const get = (n) => results.get(n);
const scan = get('ds01-events --type gpu.reject --all --json');
const jq = get('jq -c \'select(.event_type=="gpu.reject")\'');
const grep = get('grep -c gpu.reject');
const summary = get('ds01-events --summary --json');
const single = get('  same, DS01_EVENTS_WORKERS=0 (one thread)');
const lines = Number(spawnSync('wc', ['-l', log], { encoding: 'utf8' }).stdout.trim().split(/\s+/)[0]);
const total = JSON.parse(summary.first).total;
const mark = (ok) => (ok ? 'met' : 'NOT met');
console.log('');
console.log(`load average at end: ${load()}`);
console.log('targets (issue 3):');
console.log(
  `  --limit 50 under 0.2 s: ${get('ds01-events --limit 50').wall.toFixed(3)} s wall, ${get('ds01-events --limit 50').cpu.toFixed(2)} s cpu (${mark(get('ds01-events --limit 50').wall < 0.2)})`,
);
console.log(
  `  --since 1h under 0.2 s: ${get('ds01-events --since 1h').wall.toFixed(3)} s wall, ${get('ds01-events --since 1h').cpu.toFixed(2)} s cpu (${mark(get('ds01-events --since 1h').wall < 0.2)})`,
);
console.log(
  `  full filtered scan 5x faster than jq: ${(jq.wall / scan.wall).toFixed(1)}x (wall), ${(jq.cpu / scan.cpu).toFixed(1)}x less CPU (${mark(jq.wall / scan.wall >= 5)}); same output: ${scan.lines === jq.lines ? 'yes' : `NO (${scan.lines} vs ${jq.lines})`}`,
);
console.log(
  `  --summary under 2 s: ${summary.wall.toFixed(3)} s wall, ${summary.cpu.toFixed(2)} s cpu with workers; one thread ${single.wall.toFixed(3)} s wall, ${single.cpu.toFixed(2)} s cpu (${mark(summary.wall < 2)}); same summary either way: ${summary.first === single.first ? 'yes' : 'NO'}; total ${total} = lines in the file (${lines}): ${total === lines ? 'yes' : 'NO'}`,
);
const peak = Math.max(...[...results].filter(([n]) => n.startsWith('ds01') || n.startsWith('  same')).map(([, r]) => r.rss));
console.log(`  peak RSS of any ds01-events run under 150 MB: ${peak.toFixed(0)} MB (${mark(peak < 150)})`);
console.log(
  `grep reads the file in ${grep.wall.toFixed(3)} s; ds01-events --count --type gpu.reject agrees with grep -c: ${get('ds01-events --count --type gpu.reject').first === grep.first ? 'yes' : 'NO'}`,
);
