#!/usr/bin/env node
// The single entry for running tests:
//
//   node test-support/run-tests.mjs [--project NAME] [more vitest args]
//
// Provides Docker (test-support/docker-daemon.mjs), runs `vitest run` from the
// repository root with the env below, stops a private daemon afterwards and
// ends with exactly one summary line: `N passed, N failed[, N skipped]`.
//
//   DOCKER_HOST                   the daemon to use
//   DS01_TEST_IMAGE               ds01-test/busybox:latest
//   DS01_TEST_DOCKER=1            Docker is ready, or else
//   DS01_TEST_DOCKER_UNAVAILABLE  the reason it is not
//
// Exit status: vitest's (non-zero when a test failed); non-zero as well when
// no test ran or no report was written.

import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureDocker } from './docker-daemon.mjs';
import { ensureTestUsers } from './test-users.mjs';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const vitestBin = path.join(repoRoot, 'node_modules', '.bin', 'vitest');
const log = (msg) => process.stderr.write(`[run-tests] ${msg}\n`);

const SIGNAL_NUMBERS = { SIGINT: 2, SIGTERM: 15, SIGHUP: 1 };

async function main() {
  if (!existsSync(vitestBin)) {
    log(`${vitestBin} not found: run \`npm ci\` in ${repoRoot} first`);
    console.log('0 passed, 0 failed');
    return 1;
  }

  let docker = null;
  let child = null;
  let stopping = null;
  const stopDocker = () => {
    stopping ??= docker && 'stop' in docker ? docker.stop().catch((err) => log(`stopping Docker: ${err.message}`)) : Promise.resolve();
    return stopping;
  };
  // vitest runs in a process group of its own: a signal to us (Ctrl-C, CI's
  // SIGTERM) is passed to vitest and all its workers, and the daemon is
  // stopped once they are gone. A second signal kills them outright.
  const signalVitest = (sig) => {
    if (!child?.pid) return;
    try {
      process.kill(-child.pid, sig);
    } catch {}
  };
  let interrupted = null;
  for (const sig of Object.keys(SIGNAL_NUMBERS)) {
    process.on(sig, () => {
      if (interrupted) {
        signalVitest('SIGKILL');
        return;
      }
      interrupted = sig;
      log(`${sig}: stopping the tests, then Docker`);
      signalVitest(sig);
    });
  }

  ensureTestUsers((msg) => log(msg));
  docker = await ensureDocker({ log: (msg) => log(msg) });
  const env = { ...process.env, DS01_TEST_IMAGE: 'ds01-test/busybox:latest' };
  if ('unavailable' in docker) {
    delete env.DS01_TEST_DOCKER;
    env.DS01_TEST_DOCKER_UNAVAILABLE = docker.unavailable;
    const required = process.env.DS01_REQUIRE_DOCKER === '1';
    log(`Docker is unavailable${required ? ' (and DS01_REQUIRE_DOCKER=1: Docker tests will fail)' : '; Docker tests will be skipped'}:`);
    log(`  ${docker.unavailable.replaceAll('\n', '\n  ')}`);
  } else {
    env.DOCKER_HOST = docker.dockerHost;
    env.DS01_TEST_IMAGE = docker.image;
    env.DS01_TEST_DOCKER = '1';
    delete env.DS01_TEST_DOCKER_UNAVAILABLE;
  }
  if (interrupted) {
    await stopDocker();
    console.log('0 passed, 0 failed');
    return 128 + SIGNAL_NUMBERS[interrupted];
  }

  const reportDir = mkdtempSync(path.join(os.tmpdir(), 'ds01-vitest-'));
  const reportFile = path.join(reportDir, 'vitest.json');
  const args = ['run', '--reporter=default', '--reporter=json', `--outputFile.json=${reportFile}`, ...process.argv.slice(2)];
  let code;
  try {
    child = spawn(vitestBin, args, { cwd: repoRoot, env, stdio: 'inherit', detached: true });
    code = await new Promise((resolve) => {
      child.on('error', (err) => {
        log(`could not start vitest: ${err.message}`);
        resolve(1);
      });
      child.on('exit', (exitCode, signal) => resolve(exitCode ?? 128 + (os.constants.signals[signal] ?? 0)));
    });
    // Workers (or processes started by tests) still in vitest's group.
    signalVitest('SIGKILL');
  } finally {
    await stopDocker();
  }

  let summary = null;
  try {
    const report = JSON.parse(readFileSync(reportFile, 'utf8'));
    let failed = report.numFailedTests ?? 0;
    // A test file that fails before any test runs (import error, failing
    // beforeAll) has no failed test of its own: count it as one failure.
    for (const file of report.testResults ?? []) {
      const failedTests = (file.assertionResults ?? []).filter((t) => t.status === 'failed').length;
      if (file.status === 'failed' && failedTests === 0) failed += 1;
    }
    summary = {
      passed: report.numPassedTests ?? 0,
      failed,
      skipped: (report.numPendingTests ?? 0) + (report.numTodoTests ?? 0),
    };
  } catch {
    log(`no readable vitest report at ${reportFile}`);
  } finally {
    rmSync(reportDir, { recursive: true, force: true });
  }

  if (interrupted) code = 128 + SIGNAL_NUMBERS[interrupted];
  if (!summary || summary.passed + summary.failed === 0) {
    if (summary) log('no test was executed');
    console.log('0 passed, 0 failed');
    return code === 0 ? 1 : code;
  }
  const skipped = summary.skipped > 0 ? `, ${summary.skipped} skipped` : '';
  console.log(`${summary.passed} passed, ${summary.failed} failed${skipped}`);
  if (code === 0 && summary.failed > 0) return 1;
  return code;
}

main().then(
  (code) => process.exit(code),
  (err) => {
    log(err?.stack ?? String(err));
    console.log('0 passed, 0 failed');
    process.exit(1);
  },
);
