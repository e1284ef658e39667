import { type ClassifiedContainer, classifyContainer, type InspectLike } from './classify-container.js';

/** A container listing item (GET /containers/json), the fields used here. */
export interface ContainerSummaryLike {
  Id: string;
  Names?: string[];
  State?: string;
  Labels?: Record<string, string> | null;
}

/**
 * The two calls this needs from a Docker client. A dockerode `Docker` fits as
 * it is; events-core itself does not depend on dockerode.
 */
export interface ContainerLister {
  listContainers(options?: { all?: boolean; filters?: string | Record<string, string[]> }): Promise<ContainerSummaryLike[]>;
  getContainer(id: string): { inspect(): Promise<InspectLike> };
}

export interface ListOptions {
  /** Stopped and created containers too (GET /containers/json?all=1). */
  all?: boolean;
  /** Docker's `name` filter (a substring or regular expression, as `docker ps --filter name=`). */
  nameFilter?: string;
  /** Docker's `status` filter, e.g. ['running', 'paused']. */
  statuses?: string[];
  /** Skips a listed container before it is inspected (saves a call per container). */
  keep?: (summary: ContainerSummaryLike) => boolean;
  /** Inspections in flight at once. */
  concurrency?: number;
}

export interface ContainerListing {
  containers: ClassifiedContainer[];
  /** Listed, then gone before they could be inspected (skipped, not an error). */
  vanished: string[];
  /** Listed but unreadable for another reason: id and message. */
  errors: { id: string; message: string }[];
  /** True when no filter narrowed the listing, so a job may drop state of containers not in it. */
  complete: boolean;
}

function statusCodeOf(err: unknown): number | undefined {
  const code = (err as { statusCode?: unknown } | null)?.statusCode;
  return typeof code === 'number' ? code : undefined;
}

/**
 * Lists the containers once for a job run and classifies each from one
 * inspect (owner, type, GPUs, exempt label, times). A container that vanishes
 * between the listing and its inspect is reported, never an error that stops
 * the run.
 */
export async function listClassifiedContainers(docker: ContainerLister, options: ListOptions = {}): Promise<ContainerListing> {
  const filters: Record<string, string[]> = {};
  if (options.nameFilter) filters.name = [options.nameFilter];
  if (options.statuses?.length) filters.status = options.statuses;
  const summaries = await docker.listContainers({
    all: options.all ?? false,
    ...(Object.keys(filters).length > 0 ? { filters } : {}),
  });
  const wanted = options.keep ? summaries.filter(options.keep) : summaries;

  const found: (ClassifiedContainer | undefined)[] = new Array(wanted.length);
  const vanished: string[] = [];
  const errors: { id: string; message: string }[] = [];
  let next = 0;
  const worker = async () => {
    while (next < wanted.length) {
      const index = next++;
      const id = (wanted[index] as ContainerSummaryLike).Id;
      try {
        found[index] = classifyContainer(await docker.getContainer(id).inspect());
      } catch (err) {
        if (statusCodeOf(err) === 404) vanished.push(id);
        else errors.push({ id, message: err instanceof Error ? err.message : String(err) });
      }
    }
  };
  const workers = Math.max(1, Math.min(options.concurrency ?? 8, wanted.length));
  await Promise.all(Array.from({ length: workers }, worker));

  return {
    containers: found.filter((c): c is ClassifiedContainer => c !== undefined),
    vanished,
    errors,
    complete: !options.nameFilter && !options.statuses?.length && !options.keep && (options.all ?? false),
  };
}
