// Writes a synthetic ds01 event log in the exact shape events-core writes
// (v2 envelope with id, host, pid and actor, ~313 bytes a line), timestamps evenly spread over `days`
// and ending now, so --since 1h has about an hour of events to find.
// Usage: node bench/events-cli/generate.mjs OUT [COUNT=1000000] [DAYS=30]
import fs from 'node:fs';

const [out, countArg = '1000000', daysArg = '30'] = process.argv.slice(2);
if (!out) {
  console.error('usage: generate.mjs OUT [COUNT] [DAYS]');
  process.exit(2);
}
const count = Number(countArg);
const span = Number(daysArg) * 86_400_000;
const end = Date.now();
const step = span / count;
const users = ['alice', 'bob', 'carol', 'dana', 'erin', 'frank', 'grace', 'heidi'];
const kinds = [
  ['container.create', 30, (u, i) => ({ container: `${u}-job-${i % 500}`, image: 'pytorch:2.4', container_type: 'devcontainer' })],
  ['gpu.allocate', 20, (u, i) => ({ container: `${u}-job-${i % 500}`, gpus: [{ uuid: 'GPU-7a3c', slot: '0' }], weight: 1 })],
  ['gpu.release', 18, (u, i) => ({ container: `${u}-job-${i % 500}`, reason: 'stopped' })],
  ['gpu.reject', 4, (u, i) => ({ container: `${u}-job-${i % 500}`, reason: 'USER_AT_LIMIT', requested: 1 })],
  ['container.remove', 15, (u, i) => ({ container: `${u}-job-${i % 500}`, reason: 'user' })],
  ['maintenance.idle_kill', 5, (u, i) => ({ container: `${u}-job-${i % 500}`, idle_minutes: 95 })],
  ['auth.denied', 8, (u) => ({ command: 'stop', reason: `container belongs to ${u}x` })],
];
const table = kinds.flatMap((k) => Array(k[1]).fill(k));
const fd = fs.openSync(out, 'w');
let batch = [];
let bytes = 0;
let seed = 12345;
const rand = () => {
  seed = (seed * 1103515245 + 12345) & 0x7fffffff;
  return seed;
};
for (let i = 0; i < count; i++) {
  const t = Math.round(end - span + i * step);
  const r = rand();
  const [type, , mk] = table[r % table.length];
  const user = users[(r >> 8) % users.length];
  const ev = {
    timestamp: new Date(t).toISOString(),
    event_type: type,
    schema_version: '2',
    user,
    source: type.startsWith('gpu') ? 'ds01-gpu' : type.startsWith('maint') ? 'ds01-idle' : 'docker-wrapper',
    details: mk(user, i),
    id: `${t
      .toString(16)
      .padStart(12, '0')
      .replace(
        /^(.{8})(.{4})$/,
        '$1-$2',
      )}-7${(i & 0xfff).toString(16).padStart(3, '0')}-8${(r & 0xfff).toString(16).padStart(3, '0')}-${(i * 7919).toString(16).padStart(12, '0').slice(-12)}`,
    host: 'gpu01',
    pid: 1000 + (r % 30000),
    actor: { uid: 1001, user },
  };
  const line = `${JSON.stringify(ev)}\n`;
  batch.push(line);
  bytes += line.length;
  if (batch.length >= 10000) {
    fs.writeSync(fd, batch.join(''));
    batch = [];
  }
}
fs.writeSync(fd, batch.join(''));
fs.closeSync(fd);
console.error(`wrote ${count} events, ${(bytes / 1e6).toFixed(1)} MB, to ${out}`);
