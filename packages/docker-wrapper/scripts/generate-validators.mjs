#!/usr/bin/env node
// Build step (after tsc, before bundling the bin): compiles the schemas of
// ds01-gpu's answers (src/create/gpu-answer-schemas.ts, the one source) into
// standalone ajv validators, dist/create/gpu-answer-validators.cjs. Compiling
// them at run time cost about 40 ms of every `docker run --gpus`.
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
const { Ajv } = require('ajv');
const standaloneCode = require('ajv/dist/standalone').default;

const dist = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../dist/create');
const { gpuAnswerSchemas } = await import(path.join(dist, 'gpu-answer-schemas.js'));
const ajv = new Ajv({ allErrors: false, strict: false, code: { source: true } });
for (const [kind, schema] of Object.entries(gpuAnswerSchemas)) ajv.addSchema(schema, kind);
const code = standaloneCode(ajv, Object.fromEntries(Object.keys(gpuAnswerSchemas).map((k) => [k, k])));
fs.writeFileSync(
  path.join(dist, 'gpu-answer-validators.cjs'),
  `// Generated from src/create/gpu-answer-schemas.ts by scripts/generate-validators.mjs. Do not edit.\n${code}\n`,
);
console.log('generate-validators: dist/create/gpu-answer-validators.cjs');
