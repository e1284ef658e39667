import { Type } from '@sinclair/typebox';
import { bool, details, gpuRefList, int, num, numOrNull, str, strList, strOrNull } from './schema-parts.js';

/** GPU allocation decisions, written by ds01-gpu (one event per action). */
export const gpuEvents = {
  'gpu.allocate': {
    description: 'GPU or MIG slots were reserved for a container.',
    details: details(
      {
        container: str,
        container_id: str,
        reservation: str,
        gpus: gpuRefList,
        weight: num,
        usage_after: num,
        limit: numOrNull,
        reused_hold: bool,
      },
      ['container', 'gpus', 'weight'],
    ),
  },
  'gpu.reject': {
    description: 'A GPU request was refused.',
    details: details(
      {
        container: str,
        reason: str,
        message: str,
        requested: int,
        usage: num,
        limit: numOrNull,
        retryable: bool,
      },
      ['reason', 'requested'],
    ),
  },
  'gpu.release': {
    description: 'GPU slots went back to the pool.',
    details: details(
      {
        container: str,
        container_id: str,
        gpus: gpuRefList,
        reason: Type.Union([
          Type.Literal('removed'),
          Type.Literal('hold_expired'),
          Type.Literal('reservation_expired'),
          Type.Literal('revoked'),
          Type.Literal('manual'),
          Type.Literal('create_failed'),
        ]),
        note: str,
      },
      ['gpus', 'reason'],
    ),
  },
  'gpu.hold': {
    description: "A stopped container's GPUs are held for it until a time (null: until it is removed).",
    details: details({ container: str, container_id: str, gpus: gpuRefList, until: strOrNull }, ['gpus', 'until']),
  },
  'gpu.state_rebuilt': {
    description: 'The allocator state file was unreadable; it was moved aside and rebuilt from Docker.',
    details: details({ moved_to: str, error: str, allocations: int }, ['error']),
  },
  'gpu.unmanaged': {
    description: 'A container uses GPUs without an allocation (created around the wrapper).',
    details: details({ container: str, container_id: str, gpus: strList }, ['container', 'gpus']),
  },
  'gpu.orphan_process': {
    description: 'A GPU process belongs to no container that holds that GPU (reported, never killed).',
    details: details({ pid: int, process_name: str, gpu_uuid: str, used_memory_mib: num, container: str, container_id: str, reason: str }, [
      'pid',
      'gpu_uuid',
    ]),
  },
  'gpu.orphan_allocation': {
    description: 'An allocation whose container no longer exists.',
    details: details({ container: str, container_id: str, gpus: strList, allocation: str, state: str }, ['gpus']),
  },
} as const;
