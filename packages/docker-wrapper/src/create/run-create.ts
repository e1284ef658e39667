import { LABELS } from '@ds01/events-core/labels';
import type { WrapperContext } from '../context.js';
import { EVENT_SOURCE } from '../deny.js';
import { type DockerClient, resolveContainer } from '../docker-api.js';
import { logEvent } from '../log.js';
import { boolOption, type ParsedCommand } from '../parse-args.js';
import { type RunResult, runReal } from '../real-docker.js';
import { allocateWaiting } from './allocate-waiting.js';
import { createEventDetails } from './create-event.js';
import { bindInBackground, type GpuRef, releaseGpus } from './gpu-client.js';
import { deviceGpuValue } from './gpu-request.js';
import { type GpuSession, startGpuSession, takeEarlyGpuSession, wantsGpus } from './gpu-session.js';
import { type CreatePlan, prepareCreate } from './prepare-create.js';
import { type CreatedContainer, watchCreate } from './watch-create.js';

/** run/create: the plan, the GPUs, the real client, then binding (or releasing) and the event. */
export async function runCreate(
  ctx: WrapperContext,
  parsed: ParsedCommand,
  docker: DockerClient,
  real: string,
  childEnv: NodeJS.ProcessEnv,
): Promise<RunResult> {
  // The bin started the allocator when it saw --gpus (gpu-session.ts); called in-process, it starts
  // here. Either way it starts up while the checks run.
  const session: GpuSession | undefined = takeEarlyGpuSession() ?? (wantsGpus(parsed) ? startGpuSession(ctx.env) : undefined);
  let plan: CreatePlan;
  let nameTaken = false;
  try {
    plan = await prepareCreate(ctx, parsed, docker, process.cwd());
    // A name already taken makes docker fail; allocating for it would hand back (and then release) that container's GPUs.
    nameTaken = plan.gpuCount > 0 && plan.name ? (await resolveContainer(docker, plan.name))?.facts.name === plan.name : false;
  } catch (err) {
    session?.end();
    throw err;
  }
  let reservation: string | undefined;
  let gpus: GpuRef[] = [];
  if (nameTaken || plan.gpuCount === 0) session?.end();
  else {
    const request = { owner: plan.owner, name: plan.name!, count: plan.gpuCount };
    ({ reservation, gpus } = await allocateWaiting(ctx, request, {
      ...(session ? { first: () => session.allocate(request) } : {}),
      progress: (line) => process.stderr.write(line),
    }));
  }
  // The allocator that reserved binds too when it can (no second allocator start-up); else one is started for it.
  const bind = async (containerId: string) => {
    if (!reservation) return;
    if (!(await session?.bind(reservation, containerId))) await bindInBackground(ctx.env, reservation, containerId);
  };

  const gpuTokens: string[] = [];
  if (gpus.length > 0) {
    const uuids = gpus.map((g) => g.uuid);
    gpuTokens.push('--gpus', deviceGpuValue(uuids));
    gpuTokens.push('--label', `${LABELS.gpuUuids}=${uuids.join(',')}`, '--label', `${LABELS.gpuUuid}=${uuids[0]}`);
    const slots = gpus.map((g) => g.slot).filter((s): s is string => !!s);
    if (slots.length === gpus.length) gpuTokens.push('--label', `${LABELS.gpuSlots}=${slots.join(',')}`);
  }
  const args = [...parsed.argv.slice(0, parsed.afterVerb), ...plan.userOptions, ...plan.injected, ...gpuTokens, ...plan.tail];

  const returnsAtOnce = parsed.verbPath.at(-1) === 'create' || boolOption(parsed.options, '-d') || boolOption(parsed.options, '--detach');
  const filters = plan.injected.includes(`${LABELS.createdAt}=${plan.createdAt}`)
    ? [`${LABELS.createdAt}=${plan.createdAt}`]
    : plan.name
      ? []
      : null;
  const logCreated = (c: CreatedContainer) => {
    const details = createEventDetails({
      name: c.name || plan.name || '',
      id: c.id,
      image: plan.image,
      containerType: plan.containerType,
      createdBy: ctx.identity.user,
      gpus,
      ...(plan.gpuRequest ? { gpuRequest: plan.gpuRequest } : {}),
    });
    // Behind ds01-docker-proxy the proxy logs the create (it sees every create, whoever sent it): one event, not two.
    if (!ctx.proxySocket) logEvent('container.create', { user: plan.owner, source: EVENT_SOURCE, details });
  };
  const watch =
    filters === null
      ? null
      : await watchCreate(docker, filters.length > 0 ? filters : [`${LABELS.managed}=true`], async (c) => {
          // Logged when the engine reports the container, so the event comes before the watcher's container.start.
          logCreated(c);
          // A foreground run may last for days: bind now, not when it ends.
          if (!returnsAtOnce) await bind(c.id);
        });

  let result: RunResult;
  try {
    result = await runReal(real, args, childEnv);
  } catch (err) {
    session?.end();
    if (plan.name && reservation) await releaseGpus(ctx.env, plan.name, 'create_failed').catch(() => {});
    throw err;
  }
  const created = watch ? await watch.finish() : null;
  // create and run -d end as soon as the container exists (and runs): bound then,
  // so the allocator's start-up does not compete with docker for the CPUs meanwhile.
  if (created && returnsAtOnce) await bind(created.id);
  // The create event was logged by the watch callback; a command that created nothing gives its GPUs back.
  session?.end();
  if (!created && reservation && plan.name) {
    await releaseGpus(ctx.env, plan.name, 'create_failed').catch((err: Error) => {
      process.stderr.write(`ds01: warning: could not release the GPU reservation: ${err.message}\n`);
    });
  }
  return result;
}
