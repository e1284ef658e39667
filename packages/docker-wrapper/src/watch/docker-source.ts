import Docker from 'dockerode';
import type { InspectInfo } from './describe-event.js';
import { dockerTimeParam } from './docker-event.js';

const INSPECT_TIMEOUT_MS = 10_000;
const PING_TIMEOUT_MS = 5_000;

/** The Docker Engine calls the watcher makes (an interface so tests and the benchmark can count them). */
export interface DockerSource {
  /** Where the daemon is, for messages. */
  readonly address: string;
  ping(): Promise<void>;
  /** The live event stream from `since` (inclusive), container events only. */
  events(sinceNano: bigint, signal: AbortSignal): Promise<NodeJS.ReadableStream>;
  /** Every event Docker still holds from `since` to `until` (all types); the stream ends by itself. */
  history(sinceNano: bigint, untilNano: bigint): Promise<NodeJS.ReadableStream>;
  inspect(id: string): Promise<InspectInfo | null>;
}

export function dockerAddress(env: NodeJS.ProcessEnv = process.env): string {
  return env.DOCKER_HOST || 'unix:///var/run/docker.sock';
}

/** dockerode reads DOCKER_HOST itself (unix:// and tcp://). */
export function dockerodeSource(env: NodeJS.ProcessEnv = process.env): DockerSource {
  const docker = new Docker();
  return {
    address: dockerAddress(env),
    async ping() {
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(Object.assign(new Error('no answer'), { code: 'ETIMEDOUT' })), PING_TIMEOUT_MS);
      });
      try {
        await Promise.race([docker.ping(), timeout]);
      } finally {
        clearTimeout(timer);
      }
    },
    async events(sinceNano, signal) {
      return docker.getEvents({
        since: dockerTimeParam(sinceNano) as unknown as number,
        filters: { type: ['container'] },
        abortSignal: signal,
      });
    },
    async history(sinceNano, untilNano) {
      return docker.getEvents({
        since: dockerTimeParam(sinceNano) as unknown as number,
        until: dockerTimeParam(untilNano) as unknown as number,
        abortSignal: AbortSignal.timeout(30_000),
      });
    },
    async inspect(id) {
      try {
        return (await docker.getContainer(id).inspect({ abortSignal: AbortSignal.timeout(INSPECT_TIMEOUT_MS) })) as InspectInfo;
      } catch {
        // Gone already (404), or the daemon could not answer: the event is still logged from what it carries.
        return null;
      }
    },
  };
}
