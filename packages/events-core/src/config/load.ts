import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import type { Ajv2020, ErrorObject, ValidateFunction } from 'ajv/dist/2020.js';
import { isMap, isScalar, LineCounter, type Node, parseDocument } from 'yaml';
import { configFilePath } from '../paths.js';
import { settledFileVersion, writeAccessSnapshot } from './access-snapshot.js';
import { durationInUnit } from './durations.js';
import { loadGeneratedValidator } from './generated-validator.js';
import { limitBlockProperties, siteConfigSchema, unitOfKey } from './schema.js';

/** The validated file, keys as written (aliases and durations normalised). Shape: see schema.ts. */
export interface RawSiteConfig {
  defaults?: Record<string, unknown>;
  default_group?: string;
  groups?: Record<string, Record<string, unknown>> | null;
  user_overrides?: Record<string, Record<string, unknown>> | null;
  policies?: Record<string, unknown>;
  container_types?: Record<string, Record<string, unknown>> | null;
  gpu_allocation?: Record<string, unknown> | null;
  monitoring?: Record<string, unknown> | null;
  access_control?: { admin_users?: string[]; admin_group?: string | null; wrapper?: Record<string, unknown> | null } | null;
  [key: string]: unknown;
}
export type LimitBlock = { [K in keyof typeof limitBlockProperties]?: unknown } & Record<string, unknown>;

export interface SiteConfig {
  /** The file it came from, and its directory (members, overrides and exemptions live beside it). */
  file: string;
  dir: string;
  raw: RawSiteConfig & Record<string, unknown>;
  defaults: LimitBlock;
  defaultGroup: string;
  /** Groups in file order, members joined from the inline list and groups/<group>.members. */
  groups: { name: string; limits: LimitBlock; members: Set<string> }[];
  /** Inline user_overrides with user-overrides.yaml laid over them (the file wins, key by key). */
  overrides: Map<string, LimitBlock>;
  /** Non-fatal findings, such as unknown keys (likely typos). */
  warnings: string[];
}

export interface ConfigProblem {
  file: string;
  line: number;
  key: string;
  message: string;
}

export class ConfigError extends Error {
  constructor(readonly problems: ConfigProblem[]) {
    super(problems.map(formatProblem).join('\n'));
    this.name = 'ConfigError';
  }
}

export function formatProblem(p: ConfigProblem): string {
  return `${p.file}:${p.line}: ${p.key || '(top level)'}: ${p.message}`;
}

const ALIASES: Record<string, string[]> = {
  max_gpu_equivalents: ['max_gpu_slots', 'max_gpus_per_user', 'max_mig_instances'],
  max_gpu_slots_per_container: ['max_gpus_per_container', 'max_mig_per_container'],
  max_cpus: ['cpus'],
};

type Validator = ((data: unknown) => boolean) & { errors?: ErrorObject[] | null };
let compiled: Validator | undefined;

/**
 * The site-config validator: the standalone one generated at build time when
 * it is there (dist), else compiled from the schema with ajv (tests on src).
 */
function validator(): Validator {
  if (compiled) return compiled;
  const generated = loadGeneratedValidator() as ({ default?: Validator } & Validator) | null;
  if (generated) {
    compiled = generated.default ?? generated;
  } else {
    const { Ajv2020: AjvClass } = createRequire(import.meta.url)('ajv/dist/2020.js') as { Ajv2020: new (o: object) => Ajv2020 };
    compiled = new AjvClass({ allErrors: true, strict: false }).compile(siteConfigSchema) as ValidateFunction;
  }
  return compiled;
}

interface ParsedYaml {
  value: unknown;
  lineOf: (keyPath: (string | number)[]) => number;
}

function parseYamlFile(file: string, problems: ConfigProblem[]): ParsedYaml | undefined {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    problems.push({
      file,
      line: 0,
      key: '',
      message: code === 'ENOENT' ? 'file not found (set DS01_CONFIG to the site config)' : `cannot read (${code})`,
    });
    return undefined;
  }
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length > 0) {
    for (const e of doc.errors) {
      problems.push({ file, line: lineCounter.linePos(e.pos[0]).line, key: '', message: `YAML: ${e.message.split('\n')[0]}` });
    }
    return undefined;
  }
  const lineOf = (keyPath: (string | number)[]): number => {
    // Walk down as far as the path exists; report the deepest node found.
    let node: unknown = doc.contents;
    let line = 1;
    for (const seg of keyPath) {
      if (isMap(node)) {
        const pair = node.items.find((p) => isScalar(p.key) && String(p.key.value) === String(seg));
        if (!pair) break;
        const keyNode = pair.key as Node;
        if (keyNode.range) line = lineCounter.linePos(keyNode.range[0]).line;
        node = pair.value;
      } else if (node && typeof node === 'object' && 'items' in node) {
        const item = (node as { items: Node[] }).items[Number(seg)];
        if (!item) break;
        if (item.range) line = lineCounter.linePos(item.range[0]).line;
        node = item;
      } else break;
    }
    return line;
  };
  return { value: doc.toJS() ?? {}, lineOf };
}

/** Turns duration strings into numbers in the key's unit, and canonicalises alias keys, in place. */
function normaliseBlock(
  block: Record<string, unknown>,
  at: (string | number)[],
  file: string,
  parsed: ParsedYaml,
  problems: ConfigProblem[],
): void {
  for (const [key, value] of Object.entries(block)) {
    const unit = unitOfKey(key);
    if (unit && typeof value === 'string') {
      const converted = durationInUnit(value, unit);
      if (converted === undefined) {
        const keyPath = [...at, key];
        problems.push({
          file,
          line: parsed.lineOf(keyPath),
          key: keyPath.join('.'),
          message: `"${value}" is not a duration (use a number of ${unit === 'h' ? 'hours' : unit === 'm' ? 'minutes' : 'seconds'}, a unit such as "90m", or null)`,
        });
      } else block[key] = converted;
    } else if (value && typeof value === 'object' && !Array.isArray(value) && (key === 'policies' || key === 'aggregate')) {
      normaliseBlock(value as Record<string, unknown>, [...at, key], file, parsed, problems);
    }
  }
  for (const [canonical, aliases] of Object.entries(ALIASES)) {
    if (canonical in block) continue;
    const alias = aliases.find((a) => a in block);
    if (alias) block[canonical] = block[alias];
  }
}

function schemaErrors(errors: ErrorObject[] | null | undefined, file: string, parsed: ParsedYaml): ConfigProblem[] {
  const seen = new Set<string>();
  const out: ConfigProblem[] = [];
  for (const e of errors ?? []) {
    const keyPath = e.instancePath
      .split('/')
      .slice(1)
      .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
    const key = keyPath.join('.');
    // `type: [number, null]` errors come with an "anyOf"-like duplicate; keep the first per key.
    if (seen.has(key)) continue;
    seen.add(key);
    const value = keyPath.reduce<unknown>((o, k) => (o as Record<string, unknown> | undefined)?.[k], parsed.value);
    const got = value === undefined ? '' : ` (got ${JSON.stringify(value)})`;
    out.push({ file, line: parsed.lineOf(keyPath), key, message: `${e.message ?? 'is invalid'}${got}` });
  }
  return out;
}

function readMembersFile(file: string): string[] {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    return [];
  }
  return text
    .split('\n')
    .map((l) => (l.split('#')[0] ?? '').trim())
    .filter((l) => l.length > 0);
}

const KNOWN_TOP = new Set(Object.keys(siteConfigSchema.properties));
const KNOWN_LIMIT = new Set([...Object.keys(limitBlockProperties), 'members']);

/**
 * Loads and validates the site config (DS01 resource-limits.yaml format) with
 * the files beside it: groups/<group>.members and user-overrides.yaml.
 * Every problem is reported at once with file:line and key; nothing is guessed.
 */
export function loadSiteConfig(file: string = configFilePath()): SiteConfig {
  const problems: ConfigProblem[] = [];
  const version = settledFileVersion(file);
  const parsed = parseYamlFile(file, problems);
  if (!parsed) throw new ConfigError(problems);
  if (!parsed.value || typeof parsed.value !== 'object' || Array.isArray(parsed.value)) {
    throw new ConfigError([{ file, line: 1, key: '', message: 'the config must be a YAML mapping' }]);
  }
  const raw = parsed.value as Record<string, unknown>;
  const warnings: string[] = [];
  const blockAt = (obj: unknown, at: (string | number)[]) => {
    if (obj && typeof obj === 'object' && !Array.isArray(obj)) {
      normaliseBlock(obj as Record<string, unknown>, at, file, parsed, problems);
      for (const key of Object.keys(obj)) {
        if (
          !KNOWN_LIMIT.has(key) &&
          !key.startsWith('storage_') &&
          !key.startsWith('io_') &&
          key !== 'ulimit_nofile' &&
          key !== 'gpu_memory'
        ) {
          warnings.push(`${file}:${parsed.lineOf([...at, key])}: ${[...at, key].join('.')}: unknown key (ignored)`);
        }
      }
    }
  };
  blockAt(raw.defaults, ['defaults']);
  for (const [g, block] of Object.entries((raw.groups as Record<string, unknown>) ?? {})) blockAt(block, ['groups', g]);
  for (const [u, block] of Object.entries((raw.user_overrides as Record<string, unknown>) ?? {})) blockAt(block, ['user_overrides', u]);
  for (const section of ['policies', 'gpu_allocation']) {
    const s = raw[section];
    if (s && typeof s === 'object') normaliseBlock(s as Record<string, unknown>, [section], file, parsed, problems);
  }
  for (const [t, block] of Object.entries((raw.container_types as Record<string, unknown>) ?? {})) {
    if (block && typeof block === 'object')
      normaliseBlock(block as Record<string, unknown>, ['container_types', t], file, parsed, problems);
  }
  for (const key of Object.keys(raw)) {
    if (!KNOWN_TOP.has(key)) warnings.push(`${file}:${parsed.lineOf([key])}: ${key}: unknown top-level key (ignored)`);
  }

  const validate = validator();
  if (!validate(raw)) {
    // A value already reported as a bad duration needs no second message from the schema.
    const reported = new Set(problems.map((p) => `${p.file}\0${p.key}`));
    problems.push(...schemaErrors(validate.errors, file, parsed).filter((p) => !reported.has(`${p.file}\0${p.key}`)));
  }

  const dir = path.dirname(file);
  const overrides = new Map<string, LimitBlock>();
  for (const [u, block] of Object.entries((raw.user_overrides as Record<string, LimitBlock>) ?? {})) overrides.set(u, { ...block });
  const overridesFile = path.join(dir, 'user-overrides.yaml');
  if (fs.existsSync(overridesFile)) {
    const op = parseYamlFile(overridesFile, problems);
    if (op) {
      // DS01 accepts the overrides at the top level or under `user_overrides:`.
      const root = (op.value ?? {}) as Record<string, unknown>;
      const entries = (root.user_overrides ?? root) as Record<string, unknown>;
      const prefix = root.user_overrides ? ['user_overrides'] : [];
      const v = validator();
      const wrapped = { user_overrides: entries };
      for (const [u, block] of Object.entries(entries ?? {})) {
        if (block && typeof block === 'object')
          normaliseBlock(block as Record<string, unknown>, [...prefix, u], overridesFile, op, problems);
      }
      if (!v(wrapped)) {
        const errs = (v.errors ?? []).map((e) => ({
          ...e,
          instancePath: root.user_overrides ? e.instancePath : e.instancePath.replace(/^\/user_overrides/, ''),
        }));
        problems.push(...schemaErrors(errs, overridesFile, op));
      }
      for (const [u, block] of Object.entries(entries ?? {})) {
        if (block && typeof block === 'object') overrides.set(u, { ...(overrides.get(u) ?? {}), ...(block as LimitBlock) });
      }
    }
  }
  if (problems.length > 0) throw new ConfigError(problems);
  writeAccessSnapshot(file, version, raw);

  const groups = Object.entries((raw.groups as Record<string, LimitBlock>) ?? {}).map(([name, block]) => {
    const { members, ...limits } = block as LimitBlock & { members?: string[] };
    const all = new Set([...(members ?? []), ...readMembersFile(path.join(dir, 'groups', `${name}.members`))]);
    return { name, limits: limits as LimitBlock, members: all };
  });

  return {
    file,
    dir,
    raw: raw as SiteConfig['raw'],
    defaults: { ...((raw.defaults as LimitBlock) ?? {}) },
    defaultGroup: typeof raw.default_group === 'string' ? raw.default_group : 'student',
    groups,
    overrides,
    warnings,
  };
}
