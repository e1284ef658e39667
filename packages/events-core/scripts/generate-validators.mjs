#!/usr/bin/env node
// Build step: compiles the site-config JSON Schema into a standalone ajv
// validator (dist/config/site-config-validator.cjs). Every ds01 bin loads the
// config on start; compiling the schema at run time cost more than the rest
// of a command. The schema in src/config/schema.ts stays the one source.
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
const { Ajv2020 } = require('ajv/dist/2020.js');
const standaloneCode = require('ajv/dist/standalone').default;

const dist = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../dist/config');
const { siteConfigSchema } = await import(path.join(dist, 'schema.js'));
const ajv = new Ajv2020({ allErrors: true, strict: false, code: { source: true } });
const validate = ajv.compile(siteConfigSchema);
const code = standaloneCode(ajv, validate);
fs.writeFileSync(
  path.join(dist, 'site-config-validator.cjs'),
  `// Generated from src/config/schema.ts by scripts/generate-validators.mjs. Do not edit.\n${code}\n`,
);
