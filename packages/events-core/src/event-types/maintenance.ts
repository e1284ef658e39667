import { Type } from '@sinclair/typebox';
import { anyList, anyObject, bool, details, num, numOrNull, str, strOrNull } from './schema-parts.js';

const containerRef = { container: str, container_id: str, container_type: str };

/** Decisions of the cron jobs (idle, runtime, cleanup). */
export const maintenanceEvents = {
  'maintenance.idle_warning': {
    description: 'An idle container will be stopped unless it becomes active.',
    details: details(
      { ...containerRef, level: Type.Union([Type.Literal('first'), Type.Literal('final')]), idle_s: num, timeout_s: num, stop_at: str },
      ['container', 'level', 'stop_at'],
    ),
  },
  'maintenance.idle_kill': {
    description: 'An idle container was stopped.',
    details: details({ ...containerRef, idle_s: num, idle_duration: str, timeout_s: num, samples: anyList }, ['container']),
  },
  'maintenance.idle_keepalive': {
    description: 'A keep-alive file postponed an idle stop.',
    details: details({ ...containerRef, until: str }, ['container', 'until']),
  },
  'maintenance.idle_exempt': {
    description: 'An idle container was not stopped because its owner is exempt.',
    details: details({ ...containerRef, reason: str, expires: strOrNull }, ['container', 'reason']),
  },
  'maintenance.runtime_warning': {
    description: 'A container will be stopped when it reaches its maximum runtime.',
    details: details(
      {
        ...containerRef,
        level: Type.Union([Type.Literal('first'), Type.Literal('final')]),
        runtime_s: num,
        max_runtime_h: num,
        stop_at: str,
      },
      ['container', 'level', 'stop_at'],
    ),
  },
  'maintenance.runtime_kill': {
    description: 'A container was stopped at its maximum runtime.',
    details: details({ ...containerRef, runtime_s: num, runtime: str, max_runtime: numOrNull, max_runtime_h: numOrNull }, ['container']),
  },
  'maintenance.runtime_exempt': {
    description: 'A container passed its maximum runtime but its owner is exempt (logged once per container).',
    details: details({ ...containerRef, reason: str, expires: strOrNull }, ['container', 'reason']),
  },
  'system.high_demand': {
    description:
      'ds01-idle: GPU demand crossed policies.high_demand_threshold (active) or fell back under it; idle timeouts are shortened while active.',
    details: details({ active: bool, fraction: num, threshold: num, reduction: num, allocated: num, total: num, source: str }, [
      'active',
      'fraction',
      'threshold',
    ]),
  },
  'maintenance.run_summary': {
    description: 'One maintenance run finished; counts of what it considered and did.',
    details: details({ job: str, counts: anyObject, dry_run: bool, duration_ms: num, failures: num }, ['job', 'counts']),
  },
  'maintenance.warning': {
    description: 'A maintenance job met a problem it worked around (a container it could not act on, a tool that failed).',
    details: details({ job: str, ...containerRef, code: str, message: str }, ['job', 'code', 'message']),
  },
  'notice.sent': {
    description: 'A notice was sent to a user (terminals and inbox).',
    details: details({ job: str, container: str, severity: str, title: str, terminals: num, inbox: bool }, ['title']),
  },
} as const;
