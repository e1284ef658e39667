import fs from 'node:fs';

/** Where cgroup hierarchies are mounted; overridable for tests of unusual layouts. */
function cgroupRoot(): string {
  return process.env.DS01_CGROUP_ROOT || '/sys/fs/cgroup';
}

function readNumber(file: string): number | null {
  try {
    const n = Number(fs.readFileSync(file, 'utf8').trim());
    return Number.isFinite(n) ? n : null;
  } catch {
    return null;
  }
}

/** cgroup v2 `cpu.stat`: usage_usec, returned in nanoseconds. */
function readCpuStat(file: string): number | null {
  try {
    const m = /^usage_usec (\d+)$/m.exec(fs.readFileSync(file, 'utf8'));
    return m ? Number(m[1]) * 1000 : null;
  } catch {
    return null;
  }
}

/** The cgroup paths of a process, from /proc/<pid>/cgroup: controller list → path. */
export function cgroupsOfPid(pid: number): Map<string, string> | null {
  let text: string;
  try {
    text = fs.readFileSync(`/proc/${pid}/cgroup`, 'utf8');
  } catch {
    return null;
  }
  const out = new Map<string, string>();
  for (const line of text.split('\n')) {
    const first = line.indexOf(':');
    const second = line.indexOf(':', first + 1);
    if (first < 0 || second < 0) continue;
    out.set(line.slice(first + 1, second), line.slice(second + 1));
  }
  return out;
}

/**
 * Total CPU time (ns) the container has used, from its cgroup. The container's
 * own cgroup is found through its init process, so any cgroup parent works
 * (ds01 user slices, systemd or cgroupfs driver); Docker's usual paths for the
 * id are tried when the process cannot be read. Null when no file answers:
 * the caller then asks the Docker stats API.
 */
export function readCgroupCpuNs(id: string, pid: number): number | null {
  const root = cgroupRoot();
  const candidates: string[] = [];
  const groups = pid > 0 ? cgroupsOfPid(pid) : null;
  if (groups) {
    for (const [controllers, p] of groups) {
      if (controllers.split(',').includes('cpuacct')) {
        candidates.push(
          `${root}/${controllers}${p}/cpuacct.usage`,
          `${root}/cpuacct${p}/cpuacct.usage`,
          `${root}/cpu,cpuacct${p}/cpuacct.usage`,
        );
      }
    }
    const unified = groups.get('');
    if (unified !== undefined) candidates.push(`${root}${unified}/cpu.stat`, `${root}/unified${unified}/cpu.stat`);
  }
  for (const dir of ['cpuacct', 'cpu,cpuacct']) {
    candidates.push(`${root}/${dir}/docker/${id}/cpuacct.usage`, `${root}/${dir}/system.slice/docker-${id}.scope/cpuacct.usage`);
  }
  candidates.push(`${root}/system.slice/docker-${id}.scope/cpu.stat`, `${root}/docker/${id}/cpu.stat`);
  for (const file of candidates) {
    const value = file.endsWith('cpu.stat') ? readCpuStat(file) : readNumber(file);
    if (value !== null) return value;
  }
  return null;
}
