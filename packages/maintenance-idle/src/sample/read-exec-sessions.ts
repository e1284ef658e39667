import type Docker from 'dockerode';

/**
 * How many `docker exec` sessions are running in the container right now
 * (an attached shell is someone working). Exec ids stay listed after they
 * end, so each is inspected for `Running`.
 */
export async function countRunningExecs(docker: Docker, execIds: readonly string[] | null | undefined): Promise<number> {
  let running = 0;
  for (const id of execIds ?? []) {
    try {
      const info = (await docker.getExec(id).inspect()) as { Running?: boolean };
      if (info.Running) running++;
    } catch {
      /* exec already cleaned up */
    }
  }
  return running;
}
