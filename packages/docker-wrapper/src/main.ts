import { dockerHostOf } from '@ds01/events-core/engine';
import { LABELS, readGpuUse } from '@ds01/events-core/labels';
import { checkTargets } from './check-ownership.js';
import { applyEnvSwitches, bindPolicyFor, loadContext, type WrapperContext } from './context.js';
import { GpuToolError, startGpuContainer } from './create/gpu-client.js';
import { takeEarlyGpuSession } from './create/gpu-session.js';
import { applyLimits, containerLimitsOf } from './create/limits.js';
import { runCreate } from './create/run-create.js';
import { Denial, reportDenial, UsageError } from './deny.js';
import { connectDocker, type DockerClient, listOwned, ownedContainers, type ResolvedContainer } from './docker-api.js';
import { contextFlag, hostFlags, sameEndpoint } from './docker-endpoint.js';
import { handOff, handOffWanted } from './hand-off.js';
import { flushEvents } from './log.js';
import { boolOption, hasOption, optionValues, type ParsedCommand, parseArgs } from './parse-args.js';
import { type RunResult, resolveRealDocker, runReal, WrapperLoopError } from './real-docker.js';
import { checkStartMemory } from './rules/aggregate-memory.js';
import { checkBindsAtMount, checkRestartWithBinds, mountedBinds } from './rules/bind-remount.js';
import { checkVolumeRm, volumeCreateArgs } from './volume-commands.js';

export type Outcome = RunResult;

const EXIT = (code: number): Outcome => ({ code, signal: null });

/**
 * Runs the real client: through the launcher's exec when it asked for that
 * (hand-off.ts), with this command's events written first, else as our child.
 */
async function passOn(real: string, args: readonly string[], env: NodeJS.ProcessEnv): Promise<Outcome> {
  if (handOffWanted()) {
    await flushEvents();
    if (handOff(real, args, env)) return EXIT(0);
  }
  return runReal(real, args, env);
}

/** Container references in `docker cp` arguments (`NAME:PATH`; a path starting with / or . is local). */
export function cpTargets(values: string[]): string[] {
  return values
    .filter((v) => !v.startsWith('/') && !v.startsWith('.') && v.includes(':'))
    .map((v) => v.slice(0, v.indexOf(':')))
    .filter((ref) => ref !== '' && !ref.includes('/'));
}

function targetRefs(parsed: ParsedCommand): string[] {
  const values = parsed.positionals.map((p) => p.value);
  switch (parsed.spec?.targets) {
    case 'all':
      return values;
    case 'first':
      return values.slice(0, 1);
    case 'cp':
      return cpTargets(values);
    default:
      return [];
  }
}

const insertAt = (argv: readonly string[], at: number, tokens: string[]) => [...argv.slice(0, at), ...tokens, ...argv.slice(at)];

/** Verbs that start a container again: GPU containers go through `ds01-gpu start` first. */
const STARTS = new Set(['start', 'restart']);

/** Starting stopped containers commits their memory limits (`aggregate.memory_max`). */
async function checkStartingMemory(ctx: WrapperContext, docker: DockerClient, resolved: (ResolvedContainer | null)[]): Promise<void> {
  const targets = resolved.filter((r): r is ResolvedContainer => r !== null).map((r) => r.inspect);
  if (targets.every((c) => c.State?.Running === true)) return;
  const { resolveUserLimits } = await import('@ds01/events-core/config');
  const { owner } = ctx.identity;
  const { aggregate } = resolveUserLimits(await ctx.fullConfig(), owner);
  await checkStartMemory(docker, ownedContainers(docker, owner), aggregate, targets);
}

export async function checkGpuStart(ctx: WrapperContext, resolved: (ResolvedContainer | null)[]): Promise<void> {
  for (const r of resolved) {
    if (!r) continue;
    const use = readGpuUse(r.facts);
    if (!use.hasGpu || r.facts.labels[LABELS.managed] !== 'true') continue;
    let answer: Awaited<ReturnType<typeof startGpuContainer>>;
    try {
      answer = await startGpuContainer(ctx.env, r.facts.id);
    } catch (err) {
      if (err instanceof GpuToolError)
        throw new Denial('gpu-allocator', err.message, 'Try again; if it persists, tell an administrator.', r.facts.name);
      throw err;
    }
    if (answer.status === 'rejected')
      throw new Denial(
        `gpu:${answer.reason ?? 'REJECTED'}`,
        answer.message ?? `the GPU allocation of '${r.facts.name}' was revoked`,
        'Its GPUs went to someone else while it was stopped: remove it and run a new container with --gpus.',
        r.facts.name,
      );
    if (answer.status !== 'ok')
      throw new Denial('gpu-allocator', answer.message ?? `ds01-gpu start: ${answer.status}`, 'Tell an administrator.', r.facts.name);
  }
}

/** Decides and runs one docker command line. Returns how the process should end. */
export async function dispatch(argv: string[], env: NodeJS.ProcessEnv): Promise<Outcome> {
  let real: string;
  try {
    real = resolveRealDocker(env);
  } catch (err) {
    if (err instanceof WrapperLoopError) {
      process.stderr.write(`ds01: ${err.message}\n`);
      return EXIT(1);
    }
    throw err;
  }
  const parsed = parseArgs(argv);
  const spec = parsed.spec;
  // Nothing to decide: no verb, help, or a verb that never touches containers.
  if (parsed.verbPath.length === 0 || parsed.help || spec?.kind === 'passthrough') return passOn(real, argv, env);

  const ctx = await loadContext(env);
  const operation = parsed.verbPath.join(' ');
  const { identity } = ctx;
  if (ctx.configOverride) {
    reportDenial(
      new Denial(
        'config-override',
        `${ctx.configOverride}; only root's site config is used`,
        'Unset DS01_CONFIG: docker then uses the site configuration.',
      ),
      identity.user,
      operation,
    );
    return EXIT(1);
  }
  if (ctx.configError && !identity.isAdmin) {
    process.stderr.write(
      `ds01: the site configuration cannot be read, so docker is unavailable:\n${ctx.configError}\n  Tell an administrator.\n`,
    );
    return EXIT(1);
  }
  if (applyEnvSwitches(ctx, operation).bypass || ctx.policy.mode === 'disabled') {
    // An allocator the bin started for this command would otherwise wait as long as docker runs.
    takeEarlyGpuSession()?.end();
    return passOn(real, argv, env);
  }

  const childEnv = { ...env };
  const hosts = hostFlags(parsed);
  // Behind the Engine API proxy (the server-side boundary), the caller's own socket is the daemon for them and for us.
  const viaProxy = ctx.proxySocket ? `unix://${ctx.proxySocket}` : undefined;
  const endpoint = viaProxy ?? hosts[0] ?? dockerHostOf(env);
  try {
    if (!identity.isAdmin) {
      if (hosts.some((h) => !sameEndpoint(h, dockerHostOf(env)) && !(viaProxy && sameEndpoint(h, viaProxy))))
        throw new Denial('other-daemon', `-H ${hosts[0]} talks to another Docker daemon`, 'Leave out -H/--host.');
      const context = contextFlag(parsed);
      if (context !== undefined && context !== 'default')
        throw new Denial('other-daemon', `--context ${context} may point at another Docker daemon`, 'Leave out --context.');
      // DOCKER_HOST outranks DOCKER_CONTEXT and a config file's currentContext: the client talks to the daemon we check.
      childEnv.DOCKER_HOST = endpoint;
      delete childEnv.DOCKER_CONTEXT;
    }
    if (!spec) {
      if (identity.isAdmin || ctx.policy.unknownCommands === 'allow') return await passOn(real, argv, childEnv);
      throw new Denial(
        'unknown-command',
        `'docker ${parsed.verbPath[0]}' is not a command ds01 can check`,
        'Ask an administrator if you need it.',
      );
    }
    const docker = connectDocker(endpoint);
    const args = await decide(ctx, parsed, docker, operation);
    if (args === 'create') return await runCreate(ctx, parsed, docker, real, childEnv);
    if (typeof args === 'number') return EXIT(args);
    return await passOn(real, args, childEnv);
  } catch (err) {
    if (err instanceof Denial) {
      reportDenial(err, identity.user, operation);
      return EXIT(1);
    }
    if ((err as Error).name === 'ConfigError') {
      const err2 = err as Error;
      process.stderr.write(`ds01: the site configuration cannot be read:\n${err2.message}\n  Tell an administrator.\n`);
      return EXIT(1);
    }
    if (err instanceof UsageError) {
      process.stderr.write(`ds01: ${err.message}\n`);
      return EXIT(2);
    }
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ECONNREFUSED' || code === 'ENOENT' || code === 'EACCES') {
      // The daemon cannot be reached: the real client says so in its own words.
      takeEarlyGpuSession()?.end();
      return passOn(real, argv, childEnv);
    }
    throw err;
  }
}

/** The argv to run, 'create' for run/create, or an exit code when the wrapper answers itself. */
async function decide(
  ctx: WrapperContext,
  parsed: ParsedCommand,
  docker: DockerClient,
  operation: string,
): Promise<string[] | 'create' | number> {
  const { identity, policy } = ctx;
  const spec = parsed.spec!;
  const argv = parsed.argv;
  const admin = identity.isAdmin;
  const ownFilter = ['--filter', `label=${LABELS.user}=${identity.user}`];
  switch (spec.kind) {
    case 'create':
      return 'create';
    case 'list':
    case 'events':
      return admin || policy.mode === 'monitoring' ? [...argv] : insertAt(argv, parsed.afterVerb, ownFilter);
    case 'prune-own':
      return admin ? [...argv] : insertAt(argv, parsed.afterVerb, ownFilter);
    case 'admin-only':
      if (admin) return [...argv];
      throw new Denial('admin-only', `'docker ${operation}' is for administrators: ${spec.why}`, 'Ask an administrator.');
    case 'volume-create':
      return volumeCreateArgs(ctx, parsed);
    case 'volume-rm':
      await checkVolumeRm(ctx, docker, parsed, operation);
      return [...argv];
    case 'network-member': {
      // The member container, and any container it is linked to.
      const refs = [parsed.positionals[1]?.value, ...optionValues(parsed.options, '--link').map((l) => l.split(':')[0])];
      await checkTargets(
        ctx,
        docker,
        refs.filter((r): r is string => !!r),
        { operation, change: true },
      );
      return [...argv];
    }
    case 'stats': {
      const refs = targetRefs(parsed);
      if (refs.length > 0 || admin) {
        await checkTargets(ctx, docker, refs, { operation, change: false });
        return [...argv];
      }
      const all = boolOption(parsed.options, '--all') || boolOption(parsed.options, '-a');
      const mine = await listOwned(docker, identity.user, all);
      if (mine.length === 0) {
        process.stderr.write('ds01: you have no running containers to show.\n');
        return 0;
      }
      return [...argv, ...mine.map((c) => c.Id.slice(0, 12))];
    }
    case 'targets': {
      const verb = parsed.verbPath[parsed.verbPath.length - 1]!;
      if (!admin && verb === 'exec' && boolOption(parsed.options, '--privileged') && policy.deniedFlags.has('privileged'))
        throw new Denial('privileged', 'exec --privileged gives the process full control of the host', 'Run exec without --privileged.');
      if (!admin && verb === 'update') {
        const { resolveUserLimits } = await import('@ds01/events-core/config');
        applyLimits(parsed.options, containerLimitsOf(resolveUserLimits(await ctx.fullConfig(), identity.owner).values), false);
      }
      const resolved = await checkTargets(ctx, docker, targetRefs(parsed), { operation, change: spec.change });
      const found = resolved.filter((r): r is ResolvedContainer => r !== null);
      const checksBinds = !admin && policy.deniedFlags.has('bind-mount');
      if (checksBinds && verb === 'update') {
        const restart = optionValues(parsed.options, '--restart').at(-1);
        for (const r of found) checkRestartWithBinds(restart, mountedBinds(r.inspect), r.facts.name);
      }
      // The engine mounts the binds again, following links, at each start and for docker cp.
      if (checksBinds && (verb === 'cp' || STARTS.has(verb)))
        checkBindsAtMount(
          found.map((r) => r.inspect),
          bindPolicyFor(policy, identity.user),
        );
      if (STARTS.has(verb) && !hasOption(parsed.options, '--help')) {
        if (!admin) await checkStartingMemory(ctx, docker, resolved);
        await checkGpuStart(ctx, resolved);
      }
      return [...argv];
    }
    default:
      return [...argv];
  }
}
