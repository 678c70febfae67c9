/**
 * Splits items into consecutive groups, in order, each at most `maxSize` by `sizeOf` and at most `maxItems` long; an
 * item larger than `maxSize` on its own is a group of one (the caller decides what that means).
 *
 * @example
 * chunkConsecutive(objects, (o) => o.Size ?? 0, 128 * 1024 * 1024); // compaction inputs of about 128 MiB
 */
export function chunkConsecutive<T>(
  items: readonly T[],
  sizeOf: (item: T) => number,
  maxSize: number,
  maxItems = Number.POSITIVE_INFINITY,
): T[][] {
  const chunks: T[][] = [];
  let cur: T[] = [];
  let size = 0;
  for (const item of items) {
    const s = sizeOf(item);
    if (cur.length && (cur.length >= maxItems || size + s > maxSize)) {
      chunks.push(cur);
      cur = [];
      size = 0;
    }
    cur.push(item);
    size += s;
  }
  if (cur.length) chunks.push(cur);
  return chunks;
}
