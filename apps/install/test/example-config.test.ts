import fs from 'node:fs';
import { loadSiteConfig, siteConfigSchema } from '@ds01/events-core/config';
import { describe, expect, it } from 'vitest';
import { exampleConfigPath } from '../src/index.js';

/** Every property name the schema knows, at any depth. */
function schemaKeys(node: unknown, out = new Set<string>()): Set<string> {
  if (!node || typeof node !== 'object') return out;
  const n = node as { properties?: Record<string, unknown>; additionalProperties?: unknown };
  for (const [k, v] of Object.entries(n.properties ?? {})) {
    out.add(k);
    schemaKeys(v, out);
  }
  if (n.additionalProperties && typeof n.additionalProperties === 'object') schemaKeys(n.additionalProperties, out);
  return out;
}

describe('the example site config (site/resource-limits.yaml)', () => {
  const text = fs.readFileSync(exampleConfigPath(), 'utf8');

  it('loads with events-core as it is: no problem, no unknown key', () => {
    const config = loadSiteConfig(exampleConfigPath());
    expect(config.warnings).toEqual([]);
    expect(config.defaultGroup).toBe('student');
  });

  it('names every key of the config schema, so each is explained', () => {
    const missing = [...schemaKeys(siteConfigSchema)].filter((k) => !new RegExp(`\\b${k}\\b`).test(text));
    expect(missing).toEqual([]);
  });
});
