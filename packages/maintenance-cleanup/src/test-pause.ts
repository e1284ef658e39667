import fs from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

/**
 * Test hook (documented in the README): with DS01_CLEANUP_TEST_PAUSE=<dir>,
 * the run writes `<dir>/listed` once it has listed the containers and waits
 * until `<dir>/resume` exists (at most 60 s) before acting. Tests use it to
 * change a container between the listing and the removal deterministically.
 */
export async function pauseAfterListingForTests(ids: string[]): Promise<void> {
  const dir = process.env.DS01_CLEANUP_TEST_PAUSE;
  if (!dir) return;
  // Written aside and renamed, so a test that sees the file sees all of it.
  fs.writeFileSync(path.join(dir, 'listed.tmp'), `${JSON.stringify(ids)}\n`);
  fs.renameSync(path.join(dir, 'listed.tmp'), path.join(dir, 'listed'));
  const resume = path.join(dir, 'resume');
  const until = Date.now() + 60_000;
  while (!fs.existsSync(resume) && Date.now() < until) await sleep(25);
}
