/** What the watcher remembers about a container between its events. */
export interface RememberedContainer {
  name?: string;
  /** Uses a GPU (labels or DeviceRequests), learnt while it could still be inspected. */
  gpu?: boolean;
  /** Last `start` seen, for how long it ran when inspect can no longer tell. */
  startedNano?: bigint;
  /** An `oom` arrived since the last start: the coming `die` was OOM-killed. */
  oom?: boolean;
}

/**
 * A bounded map from container id to what was learnt from its earlier events.
 * Entries go on `destroy`; the oldest go first when the limit is reached
 * (containers removed while the watcher was down), so memory stays flat.
 */
export class ContainerMemory {
  private readonly entries = new Map<string, RememberedContainer>();

  constructor(private readonly limit = 4096) {}

  get(id: string): RememberedContainer | undefined {
    return this.entries.get(id);
  }

  update(id: string, change: RememberedContainer): RememberedContainer {
    const current = this.entries.get(id);
    const next = { ...current, ...change };
    // Re-insert so the map's order is least recently used first.
    this.entries.delete(id);
    this.entries.set(id, next);
    while (this.entries.size > this.limit) {
      const oldest = this.entries.keys().next().value;
      if (oldest === undefined) break;
      this.entries.delete(oldest);
    }
    return next;
  }

  forget(id: string): void {
    this.entries.delete(id);
  }

  get size(): number {
    return this.entries.size;
  }
}
