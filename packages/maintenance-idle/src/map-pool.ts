/**
 * Maps `fn` over `items` with at most `limit` calls in flight, keeping order.
 * Per-container Docker calls go through this so a run over hundreds of
 * containers takes a fraction of a second without flooding the daemon.
 */
export async function mapPool<T, R>(items: readonly T[], limit: number, fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i] as T, i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}
