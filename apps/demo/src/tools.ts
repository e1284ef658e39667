import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa, type ResultPromise } from 'execa';

/** The checkout the demo runs from (apps/demo/dist or src → three levels up). */
export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

/** Each tool the demo drives, by bin name, as built in its workspace (run with node: tsc output is not executable). */
export const TOOLS = {
  'ds01-docker': 'packages/docker-wrapper/dist/bin/ds01-docker.cjs',
  'ds01-docker-watch': 'packages/docker-wrapper/dist/bin/ds01-docker-watch.js',
  'ds01-gpu': 'packages/gpu-allocator/dist/bin/ds01-gpu.cjs',
  'ds01-idle': 'packages/maintenance-idle/dist/bin/ds01-idle.js',
  'ds01-runtime': 'packages/maintenance-runtime/dist/bin/ds01-runtime.js',
  'ds01-cleanup': 'packages/maintenance-cleanup/dist/bin/ds01-cleanup.js',
  'ds01-events': 'packages/events-cli/dist/bin/ds01-events.cjs',
} as const;
export type ToolName = keyof typeof TOOLS;

export const toolPath = (tool: ToolName): string => path.join(repoRoot, TOOLS[tool]);

export function missingTools(): ToolName[] {
  return (Object.keys(TOOLS) as ToolName[]).filter((t) => !fs.existsSync(toolPath(t)));
}

export interface ToolRun {
  tool: ToolName;
  args: string[];
  exitCode: number;
  stdout: string;
  stderr: string;
}

const running = new Set<ResultPromise>();
let interrupted = false;

/** Ctrl-C: kills the tools running now and makes any later run fail at once, so teardown has the stage to itself. */
export function interruptTools(): void {
  interrupted = true;
  for (const child of running) child.kill('SIGKILL');
}

export async function runTool(tool: ToolName, args: string[], env: NodeJS.ProcessEnv, timeoutMs = 120_000): Promise<ToolRun> {
  if (interrupted) throw new Error('interrupted');
  const child = execa(process.execPath, [toolPath(tool), ...args], {
    env,
    extendEnv: false,
    reject: false,
    timeout: timeoutMs,
    stdin: 'ignore',
  });
  running.add(child);
  let res: Awaited<typeof child>;
  try {
    res = await child;
  } finally {
    running.delete(child);
  }
  if (interrupted) throw new Error('interrupted');
  return { tool, args, exitCode: res.exitCode ?? 1, stdout: String(res.stdout ?? ''), stderr: String(res.stderr ?? '') };
}

/** The Docker client the wrapper hands commands to: DS01_REAL_DOCKER, /usr/bin/docker, or the first on PATH. */
export function findRealDocker(): string | undefined {
  const candidates = [
    process.env.DS01_REAL_DOCKER,
    '/usr/bin/docker',
    ...(process.env.PATH ?? '').split(':').map((d) => d && path.join(d, 'docker')),
  ];
  for (const c of candidates) {
    if (!c) continue;
    try {
      fs.accessSync(c, fs.constants.X_OK);
      if (fs.statSync(c).isFile() && !fs.readFileSync(c).subarray(0, 200).toString().includes('ds01')) return c;
    } catch {
      /* next */
    }
  }
  return undefined;
}
