/**
 * Runs `fn` over `items` with at most `limit` calls in flight, keeping the order of results: the
 * bounded fan-out for per-item reads and writes (DynamoDB throttles a burst better than a flood).
 */
export async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}
