import type { DockerClient } from '../docker-api.js';

export interface CreatedContainer {
  id: string;
  name: string;
}

export interface CreateWatch {
  /** After the real client ended: the container it created, if any (waits for the callback to finish). */
  finish(): Promise<CreatedContainer | null>;
}

/**
 * Follows the engine's event stream for the one container this command
 * creates (matched by labels unique to it), so the GPU reservation can be
 * bound while `docker run` is still in the foreground. Subscribed before the
 * real client starts, so the event cannot be missed; if the stream fails, the
 * container is looked up by its labels afterwards.
 */
export async function watchCreate(
  docker: DockerClient,
  labelFilters: string[],
  onCreate: (c: CreatedContainer) => Promise<void>,
): Promise<CreateWatch> {
  let created: CreatedContainer | null = null;
  let pending: Promise<void> = Promise.resolve();
  let stream: NodeJS.ReadableStream | null = null;
  const seen = (c: CreatedContainer) => {
    if (created) return;
    created = c;
    pending = onCreate(c).catch(() => {});
  };
  try {
    stream = await docker.events({ type: ['container'], event: ['create'], label: labelFilters });
    let buf = '';
    stream.on('data', (chunk: Buffer) => {
      buf += chunk.toString('utf8');
      let nl = buf.indexOf('\n');
      while (nl >= 0) {
        const line = buf.slice(0, nl).trim();
        buf = buf.slice(nl + 1);
        nl = buf.indexOf('\n');
        if (!line) continue;
        try {
          const ev = JSON.parse(line) as { id?: string; Actor?: { ID?: string; Attributes?: Record<string, string> } };
          const id = ev.Actor?.ID ?? ev.id;
          if (id) seen({ id, name: ev.Actor?.Attributes?.name ?? '' });
        } catch {
          /* a partial line: wait for the rest */
        }
      }
    });
    stream.on('error', () => {});
  } catch {
    stream = null;
  }
  return {
    async finish() {
      if (!created) {
        const found = await docker.listContainers({ all: true, filters: { label: labelFilters } }).catch(() => []);
        const c = found[0];
        if (c) seen({ id: c.Id, name: (c.Names?.[0] ?? '').replace(/^\//, '') });
      }
      await pending;
      const s = stream as (NodeJS.ReadableStream & { destroy?: () => void }) | null;
      s?.destroy?.();
      return created;
    },
  };
}
