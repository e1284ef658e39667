import type { Static } from '@sinclair/typebox';
import { authEvents } from './auth.js';
import { containerEvents } from './container.js';
import { gpuEvents } from './gpu.js';
import { maintenanceEvents } from './maintenance.js';
import { monitorEvents } from './monitor.js';
import type { EventSpec } from './schema-parts.js';

/**
 * The event catalogue: the one table of every event type ds01 writes and its
 * detail fields. Each category lives in its own module, owned by the tool that
 * writes it; `ds01-events types` and the JSON Schemas are generated from here.
 */
export const eventCatalogue = {
  ...containerEvents,
  ...authEvents,
  ...gpuEvents,
  ...maintenanceEvents,
  ...monitorEvents,
} as const satisfies Record<string, EventSpec>;

export type EventCatalogue = typeof eventCatalogue;
export type EventType = keyof EventCatalogue;
/** Detail types, derived from the schemas, one entry per event type. */
export type EventDetailsMap = { [K in EventType]: Static<EventCatalogue[K]['details']> };
export type EventDetails<T extends EventType> = EventDetailsMap[T];

export function isCatalogued(type: string): type is EventType {
  return Object.hasOwn(eventCatalogue, type);
}

export type { EventSpec } from './schema-parts.js';
