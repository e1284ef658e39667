import { ConfigError, loadSiteConfig } from '@ds01/events-core/config';
import { SITE } from '../layout.js';
import type { CheckResult, DoctorContext } from './types.js';

export function checkConfig(ctx: DoctorContext): CheckResult {
  const title = 'site config';
  const file = ctx.env.DS01_CONFIG || ctx.at(SITE.configFile);
  try {
    const config = loadSiteConfig(file);
    const groups = config.groups.map((g) => `${g.name} (${g.members.size} member${g.members.size === 1 ? '' : 's'})`).join(', ');
    const warn = config.warnings.length > 0;
    return {
      id: 'config',
      title,
      state: warn ? 'warn' : 'ok',
      message: `${file} is valid; groups: ${groups || 'none'}; default group ${config.defaultGroup}${warn ? `\n${config.warnings.join('\n')}` : ''}`,
      ...(warn ? { fix: 'unknown keys are ignored: check them for typos' } : {}),
    };
  } catch (err) {
    if (err instanceof ConfigError) {
      return { id: 'config', title, state: 'fail', message: err.message, fix: `fix the lines above in ${file}` };
    }
    return { id: 'config', title, state: 'fail', message: `${file}: ${(err as Error).message}` };
  }
}
