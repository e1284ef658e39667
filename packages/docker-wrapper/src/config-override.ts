import fs from 'node:fs';
import path from 'node:path';

/**
 * Why the caller may not point the wrapper at `file` through DS01_CONFIG, or
 * undefined when they may. The site config says who is an administrator and
 * which rules apply, so a file the caller wrote (or could write, or put files
 * beside: `user-overrides.yaml`, `groups/`) would hand them any rights they
 * like. Root may use any file (the tests, the demo); anyone else only one
 * that root owns, in a folder they cannot write. A file that is missing is
 * left to the usual "cannot be read" error.
 */
export function configOverrideProblem(file: string, env: NodeJS.ProcessEnv): string | undefined {
  const uid = typeof process.getuid === 'function' ? process.getuid() : 0;
  if (uid === 0 || !env.DS01_CONFIG) return undefined;
  let owner: number;
  try {
    owner = fs.statSync(file).uid;
  } catch {
    return undefined;
  }
  if (owner !== 0) return `DS01_CONFIG=${file} belongs to uid ${owner}, not to root`;
  for (const p of [file, path.dirname(file)]) {
    try {
      fs.accessSync(p, fs.constants.W_OK);
      return `DS01_CONFIG=${file}: you can write ${p === file ? 'it' : `its folder ${p}`}`;
    } catch {
      // Not writable by the caller: as it should be.
    }
  }
  return undefined;
}
