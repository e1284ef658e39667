import type http from 'node:http';
import { dockerHostOf, type EngineTarget, engineTarget } from './endpoint.js';
import { exchange } from './exchange.js';

export interface ContainerSummary {
  Id: string;
  Names?: string[];
  Image?: string;
  Labels?: Record<string, string> | null;
  State?: string;
  Status?: string;
  Created?: number;
  HostConfig?: { NetworkMode?: string } | null;
}

export interface ContainerInspect {
  Id: string;
  Name?: string;
  Image?: string;
  Config?: { Labels?: Record<string, string> | null; Env?: string[] | null; Image?: string } | null;
  HostConfig?: {
    DeviceRequests?: { Driver?: string; Count?: number; DeviceIDs?: string[] | null; Capabilities?: string[][] | null }[] | null;
    Runtime?: string;
    /** Bytes; 0 when the container has no memory limit. */
    Memory?: number;
    Binds?: string[] | null;
    Mounts?: { Type?: string; Source?: string }[] | null;
    RestartPolicy?: { Name?: string; MaximumRetryCount?: number } | null;
  } | null;
  State?: { Status?: string; Running?: boolean; StartedAt?: string; FinishedAt?: string };
  /** Every mount the engine makes at start, those taken with --volumes-from included. */
  Mounts?: { Type?: string; Source?: string; Destination?: string }[] | null;
}

export class EngineError extends Error {
  override name = 'EngineError';
  constructor(
    message: string,
    readonly statusCode: number,
  ) {
    super(message);
  }
}

/**
 * The few Docker Engine API calls the hot paths make (the wrapper on every
 * `docker` command, the allocator on every allocation), each one HTTP/1.0
 * exchange on a connection of its own (exchange.ts); the event stream over
 * node:http.
 * Loading dockerode, with its gRPC and SSH stacks, costs several times a bare
 * Node start; the long-running services keep using dockerode.
 */
export class Engine {
  private readonly target: EngineTarget;
  constructor(endpoint: string = dockerHostOf()) {
    this.target = engineTarget(endpoint);
  }

  /** The event stream, through node:http (loaded here only: the short calls go through exchange.ts). */
  private stream(path: string): Promise<http.IncomingMessage> {
    const t = this.target;
    const http = process.getBuiltinModule('node:http');
    return new Promise((resolve, reject) => {
      const req = http.request(
        <http.RequestOptions & { servername: string }>{
          ...('socketPath' in t ? { socketPath: t.socketPath } : { host: t.host, port: t.port }),
          path,
          // Set, so Node's agent does not work one out from the Host header: that
          // first isIP() compiles an IPv6 regex, some 12 ms. A server name only
          // matters for TLS, which this client does not speak.
          servername: '',
          headers: { Host: 'docker' },
        },
        resolve,
      );
      req.on('error', reject);
      req.end();
    });
  }

  async request<T>(method: string, path: string, body?: unknown): Promise<{ status: number; json: T | undefined }> {
    const answer = await exchange(this.target, method, path, body === undefined ? undefined : JSON.stringify(body));
    const text = answer.body.toString('utf8');
    let json: T | undefined;
    try {
      json = text ? (JSON.parse(text) as T) : undefined;
    } catch {
      json = undefined;
    }
    return { status: answer.status, json };
  }

  /** A container by name or unique id prefix, as the engine resolves it; null when there is none. */
  async inspectContainer(ref: string): Promise<ContainerInspect | null> {
    const r = await this.request<ContainerInspect & { message?: string }>('GET', `/containers/${encodeURIComponent(ref)}/json`);
    if (r.status === 200 && r.json) return r.json;
    // 404: no such container; 400: not a valid reference. The real client reports either.
    if (r.status === 404 || r.status === 400) return null;
    // A ref that is no container's name falls back to id prefixes, and one several ids share names none of them.
    if (/multiple ids found/i.test(r.json?.message ?? '')) return null;
    throw new EngineError(`inspect ${ref}: ${r.status} ${r.json?.message ?? ''}`, r.status);
  }

  async listContainers(opts: { all?: boolean; filters?: Record<string, string[]> } = {}): Promise<ContainerSummary[]> {
    const q = new URLSearchParams();
    if (opts.all) q.set('all', '1');
    if (opts.filters) q.set('filters', JSON.stringify(opts.filters));
    const r = await this.request<ContainerSummary[]>('GET', `/containers/json?${q}`);
    if (r.status !== 200 || !Array.isArray(r.json)) throw new EngineError(`list containers: ${r.status}`, r.status);
    return r.json;
  }

  /** The event stream (one JSON object per line), once the engine has answered, so nothing after this is missed. */
  async events(filters: Record<string, string[]>): Promise<http.IncomingMessage> {
    const res = await this.stream(`/events?${new URLSearchParams({ filters: JSON.stringify(filters) })}`);
    if (res.statusCode !== 200) {
      res.resume();
      throw new EngineError(`events: ${res.statusCode}`, res.statusCode ?? 0);
    }
    return res;
  }
}
