import { LABELS } from '@ds01/events-core/labels';
import type { WrapperContext } from './context.js';
import { bindsHostPath, optionPairs } from './create/bind-mounts.js';
import { Denial } from './deny.js';
import type { DockerClient } from './docker-api.js';
import { optionValues, type ParsedCommand } from './parse-args.js';
import { checkNoDs01Labels, labelsOf } from './rules/owner-label.js';
import { checkVolumeRemoval } from './volume-ownership.js';

/**
 * `docker volume create`: driver options that bind a host path are refused
 * (non-admins), and the volume is labelled as its owner's (the caller, or
 * SUDO_USER under plain sudo, as for containers). Returns the argv to run.
 */
export function volumeCreateArgs(ctx: WrapperContext, parsed: ParsedCommand): string[] {
  const { identity } = ctx;
  const admin = identity.isAdmin;
  const opts = optionValues(parsed.options, '-o', '--opt');
  if (!admin && bindsHostPath(optionPairs(opts)))
    throw new Denial(
      'bind-mount',
      'volume options that bind a host path are for administrators',
      'Create a plain volume: docker volume create NAME.',
    );
  const labels = labelsOf(optionValues(parsed.options, '--label'));
  if (!admin) checkNoDs01Labels(labels, identity.owner, 'volume');
  // An admin's own owner label stands (as for containers).
  if (admin && LABELS.user in labels) return [...parsed.argv];
  const argv = parsed.argv;
  return [...argv.slice(0, parsed.afterVerb), '--label', `${LABELS.user}=${identity.owner}`, ...argv.slice(parsed.afterVerb)];
}

/** `docker volume rm`: every named volume must be the caller's (checked all at once). */
export async function checkVolumeRm(ctx: WrapperContext, docker: DockerClient, parsed: ParsedCommand, operation: string): Promise<void> {
  // A name with a slash is no volume's (docker refuses it itself), and could not be looked up.
  const names = [...new Set(parsed.positionals.map((p) => p.value))].filter((n) => !n.includes('/'));
  const results = await Promise.allSettled(names.map((n) => checkVolumeRemoval(ctx, docker, n, operation)));
  const refused = results.find((r) => r.status === 'rejected');
  if (refused) throw refused.reason;
}
