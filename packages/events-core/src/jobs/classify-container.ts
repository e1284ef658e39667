import { lookupUser } from '../identity/user-db.js';
import {
  type ContainerFacts,
  factsFromInspect,
  type GpuUse,
  isManaged,
  readGpuUse,
  readOwner,
  readType,
} from '../labels/container-facts.js';
import { LABELS } from '../labels/names.js';
import { parseDockerTime } from '../time/index.js';

/** The parts of a Docker inspect result (GET /containers/{id}/json) the jobs read. */
export interface InspectLike {
  Id: string;
  Name?: string;
  Created?: string;
  State?: {
    Status?: string;
    Running?: boolean;
    Paused?: boolean;
    Restarting?: boolean;
    Dead?: boolean;
    Pid?: number;
    StartedAt?: string;
    FinishedAt?: string;
  } | null;
  Config?: { Labels?: Record<string, string> | null; Env?: string[] | null } | null;
  HostConfig?: { DeviceRequests?: ContainerFacts['deviceRequests']; Runtime?: string } | null;
  /** Exec sessions started in it (ended ones stay listed for a while). */
  ExecIDs?: string[] | null;
}

/** Docker's container states (`State.Status`). */
export type ContainerStatus = 'created' | 'running' | 'paused' | 'restarting' | 'removing' | 'exited' | 'dead' | (string & {});

/**
 * One container as every maintenance job sees it: who owns it, what type it
 * is, which GPUs it uses, whether it may be touched at all, and its times as
 * UTC instants (null where Docker says "never").
 */
export interface ClassifiedContainer {
  id: string;
  name: string;
  status: ContainerStatus;
  /** Host PID of its main process (0 when not running). */
  pid: number;
  owner: string | null;
  ownerFrom: string | null;
  type: string;
  gpu: GpuUse;
  managed: boolean;
  /** Why maintenance must leave it alone (`ds01.protected` / `ds01.monitoring`), else null. */
  exemptLabel: string | null;
  createdAt: number | null;
  startedAt: number | null;
  finishedAt: number | null;
  labels: Record<string, string>;
  facts: ContainerFacts;
  /** Its exec session ids (`ExecIDs`); whether one still runs needs an exec inspect. */
  execIds: string[];
}

function uidToName(uid: number): string | undefined {
  return lookupUser(uid)?.name;
}

/** Classifies one inspected container with the shared label contract. */
export function classifyContainer(inspect: InspectLike): ClassifiedContainer {
  const facts = factsFromInspect(inspect);
  const { owner, from } = readOwner(facts, uidToName);
  const labels = facts.labels;
  const exemptLabel =
    labels[LABELS.protected] === 'true' ? LABELS.protected : labels[LABELS.monitoring] === 'true' ? LABELS.monitoring : null;
  return {
    id: inspect.Id,
    name: facts.name,
    status: inspect.State?.Status ?? 'unknown',
    pid: inspect.State?.Pid ?? 0,
    owner,
    ownerFrom: from,
    type: readType(facts),
    gpu: readGpuUse(facts),
    managed: isManaged(facts),
    exemptLabel,
    createdAt: parseDockerTime(inspect.Created),
    startedAt: parseDockerTime(inspect.State?.StartedAt),
    finishedAt: parseDockerTime(inspect.State?.FinishedAt),
    labels,
    facts,
    execIds: inspect.ExecIDs ?? [],
  };
}

/** A `--exclude-label` style filter: `key` (any value) or `key=value`. */
export interface LabelMatcher {
  key: string;
  value?: string;
  text: string;
}

/** Parses `key` or `key=value`; throws with a message naming the bad text. */
export function parseLabelMatcher(text: string): LabelMatcher {
  const eq = text.indexOf('=');
  const key = (eq < 0 ? text : text.slice(0, eq)).trim();
  if (!key) throw new Error(`label filter ${JSON.stringify(text)}: want key or key=value`);
  return eq < 0 ? { key, text } : { key, value: text.slice(eq + 1), text };
}

/** True when the labels carry the key (with the value, when the matcher gives one). */
export function labelsMatch(labels: Record<string, string>, m: LabelMatcher): boolean {
  if (!Object.hasOwn(labels, m.key)) return false;
  return m.value === undefined || labels[m.key] === m.value;
}
