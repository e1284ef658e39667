import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { clearRemovalMark, markRemoval, takeRemovalMark } from '../src/jobs/index.js';

const envWithState = () => ({ DS01_STATE_DIR: fs.mkdtempSync(path.join(os.tmpdir(), 'ds01-marks-')) });

describe('removal marks', () => {
  it('hands the marking job to the watcher once', () => {
    const env = envWithState();
    markRemoval('abc123', 'ds01-cleanup', env);
    expect(takeRemovalMark('abc123', env)).toBe('ds01-cleanup');
    expect(takeRemovalMark('abc123', env)).toBeNull();
    expect(takeRemovalMark('other', env)).toBeNull();
  });

  it('forgets a removal that did not happen', () => {
    const env = envWithState();
    markRemoval('abc123', 'ds01-cleanup', env);
    clearRemovalMark('abc123', env);
    expect(takeRemovalMark('abc123', env)).toBeNull();
  });

  it('ignores and prunes marks older than ten minutes', () => {
    const env = envWithState();
    markRemoval('old', 'ds01-cleanup', env);
    const file = path.join(env.DS01_STATE_DIR, 'removal-marks', 'old');
    const past = new Date(Date.now() - 11 * 60_000);
    fs.utimesSync(file, past, past);
    expect(takeRemovalMark('old', env)).toBeNull();
    markRemoval('stale', 'ds01-cleanup', env);
    fs.utimesSync(path.join(env.DS01_STATE_DIR, 'removal-marks', 'stale'), past, past);
    markRemoval('new', 'ds01-cleanup', env);
    expect(fs.readdirSync(path.join(env.DS01_STATE_DIR, 'removal-marks'))).toEqual(['new']);
  });

  it('keeps a hostile id inside the marks directory', () => {
    const env = envWithState();
    markRemoval('../../escape', 'ds01-cleanup', env);
    expect(fs.existsSync(path.join(env.DS01_STATE_DIR, '..', 'escape'))).toBe(false);
    expect(takeRemovalMark('../../escape', env)).toBe('ds01-cleanup');
  });
});
