// Docker helpers for package tests. Docker itself is provided by
// test-support/run-tests.mjs, which sets:
//   DS01_TEST_DOCKER=1                 a daemon is ready at DOCKER_HOST
//   DS01_TEST_DOCKER_UNAVAILABLE=...   why there is none (DS01_TEST_DOCKER unset)
//   DOCKER_HOST                        unix:///... or tcp://...
//   DS01_TEST_IMAGE                    ds01-test/busybox:latest (busybox, PATH=/bin, no network)
//
// Import from a package test, e.g. packages/x/test/foo.test.ts:
//   import { describeDocker, testImage } from '../../../test-support/docker.js';

import http from 'node:http';
import { describe, it } from 'vitest';

/** True when run-tests.mjs found or started a Docker daemon. */
export const dockerReady: boolean = process.env.DS01_TEST_DOCKER === '1';

/** Why Docker is not available ('' when it is). */
export const dockerUnavailableReason: string = dockerReady
  ? ''
  : (process.env.DS01_TEST_DOCKER_UNAVAILABLE ??
    'DS01_TEST_DOCKER is not set: run tests with `node test-support/run-tests.mjs` (or `npm test`)');

/** The daemon address (DOCKER_HOST), e.g. unix:///tmp/ds01d-abc/docker.sock. */
export const dockerHost: string = process.env.DOCKER_HOST ?? 'unix:///var/run/docker.sock';

/** Local test image: busybox applets in /bin, PATH=/bin, CMD /bin/sh, users root and nobody. */
export const testImage: string = process.env.DS01_TEST_IMAGE ?? 'ds01-test/busybox:latest';

let noticePrinted = false;

/**
 * describe() for tests that need Docker. Without Docker the block is skipped
 * with a notice on stderr, or, when DS01_REQUIRE_DOCKER=1 (CI), replaced by one
 * failing test that gives the reason.
 */
export function describeDocker(name: string, fn: () => void): void {
  if (dockerReady) {
    describe(name, fn);
    return;
  }
  if (process.env.DS01_REQUIRE_DOCKER === '1') {
    describe(name, () => {
      it('needs Docker', () => {
        throw new Error(`Docker was required (DS01_REQUIRE_DOCKER=1) but is unavailable: ${dockerUnavailableReason}`);
      });
    });
    return;
  }
  if (!noticePrinted) {
    noticePrinted = true;
    process.stderr.write(
      `\n*** ds01 tests: Docker is unavailable, SKIPPING Docker tests ***\n*** ${dockerUnavailableReason}\n*** Set DS01_REQUIRE_DOCKER=1 to make this an error.\n\n`,
    );
  }
  describe.skip(name, fn);
}

let nameCounter = 0;

/** A name unique to this run, valid as a Docker container/volume/network name. */
export function uniqueName(prefix: string): string {
  const clean =
    prefix
      .toLowerCase()
      .replace(/[^a-z0-9_.-]+/g, '-')
      .replace(/^[^a-z0-9]+/, '') || 'ds01';
  nameCounter += 1;
  const random = Math.floor(Math.random() * 36 ** 4)
    .toString(36)
    .padStart(4, '0');
  return `${clean}-${process.pid.toString(36)}${Date.now().toString(36)}${nameCounter.toString(36)}${random}`;
}

export interface DockerResponse<T = unknown> {
  status: number;
  /** Parsed JSON body, or undefined when the body is empty or not JSON. */
  json: T | undefined;
  text: string;
}

type Target = { socketPath: string } | { host: string; port: number };

function target(): Target {
  if (dockerHost.startsWith('unix://')) return { socketPath: dockerHost.slice('unix://'.length) };
  const url = new URL(dockerHost.replace(/^tcp:/, 'http:'));
  return { host: url.hostname, port: Number(url.port || 2375) };
}

/**
 * One request to the Docker Engine API at DOCKER_HOST, e.g.
 * `dockerApi('GET', '/containers/json?all=1')`. An object body is sent as JSON.
 */
export function dockerApi<T = unknown>(method: string, path: string, body?: unknown): Promise<DockerResponse<T>> {
  const payload = body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        ...target(),
        method,
        path,
        headers: {
          Host: 'docker',
          ...(payload === undefined ? {} : { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(payload) }),
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', reject);
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let json: T | undefined;
          try {
            json = text ? (JSON.parse(text) as T) : undefined;
          } catch {
            json = undefined;
          }
          resolve({ status: res.statusCode ?? 0, json, text });
        });
      },
    );
    req.setTimeout(60_000, () => req.destroy(new Error(`${method} ${path}: no answer from ${dockerHost} in 60 s`)));
    req.on('error', reject);
    req.end(payload);
  });
}

/**
 * Force-removes every container (running or not) that has the label, with its
 * anonymous volumes. `label` is `key` or `key=value`. Returns how many were
 * removed. Meant for afterEach/afterAll clean-up.
 */
export async function removeContainersByLabel(label: string): Promise<number> {
  const filters = encodeURIComponent(JSON.stringify({ label: [label] }));
  const list = await dockerApi<Array<{ Id: string }>>('GET', `/containers/json?all=1&filters=${filters}`);
  if (list.status !== 200 || !Array.isArray(list.json)) {
    throw new Error(`listing containers with label ${label} failed: ${list.status} ${list.text}`);
  }
  let removed = 0;
  for (const { Id } of list.json) {
    const res = await dockerApi('DELETE', `/containers/${Id}?force=1&v=1`);
    if (res.status === 204) removed += 1;
    else if (res.status !== 404 && res.status !== 409) {
      throw new Error(`removing container ${Id} failed: ${res.status} ${res.text}`);
    }
  }
  return removed;
}
