import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { readCgroupCpuNs } from '../src/sample/read-cpu.js';
import { readNetworkBytes } from '../src/sample/read-network.js';

const id = 'ab'.repeat(32);
let root = '';
afterEach(() => {
  delete process.env.DS01_CGROUP_ROOT;
  if (root) fs.rmSync(root, { recursive: true, force: true });
});

function fakeCgroupRoot(files: Record<string, string>): void {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'ds01-cgroup-'));
  for (const [rel, text] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(root, rel)), { recursive: true });
    fs.writeFileSync(path.join(root, rel), text);
  }
  process.env.DS01_CGROUP_ROOT = root;
}

describe('readCgroupCpuNs', () => {
  it('reads cgroup v1 cpuacct.usage (ns) at Docker’s cgroupfs path', () => {
    fakeCgroupRoot({ [`cpuacct/docker/${id}/cpuacct.usage`]: '123456789\n' });
    expect(readCgroupCpuNs(id, 0)).toBe(123_456_789);
  });

  it('reads cgroup v2 cpu.stat usage_usec under the systemd driver’s scope', () => {
    fakeCgroupRoot({ [`system.slice/docker-${id}.scope/cpu.stat`]: 'usage_usec 4200\nuser_usec 4000\nsystem_usec 200\n' });
    expect(readCgroupCpuNs(id, 0)).toBe(4_200_000);
  });

  it('returns null when no cgroup file answers (the caller then asks the stats API)', () => {
    fakeCgroupRoot({});
    expect(readCgroupCpuNs(id, 0)).toBeNull();
  });
});

describe('readNetworkBytes', () => {
  it('sums received and sent bytes of every interface, loopback included', async () => {
    const before = readNetworkBytes(process.pid) as number;
    // 256 KiB over loopback: counted once as sent and once as received on lo.
    const server = net.createServer((sock) => sock.resume());
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as net.AddressInfo).port;
    await new Promise<void>((resolve, reject) => {
      const client = net.connect(port, '127.0.0.1', () => client.end(Buffer.alloc(256 * 1024)));
      client.on('close', () => resolve());
      client.on('error', reject);
    });
    server.close();
    const after = readNetworkBytes(process.pid) as number;
    expect(after - before).toBeGreaterThanOrEqual(2 * 256 * 1024);
    expect(readNetworkBytes(0)).toBeNull();
    expect(readNetworkBytes(2 ** 22 + 7)).toBeNull();
  });
});
