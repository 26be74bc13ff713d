/**
 * The one eviction rule of the isolate's in-memory state (caches, the meter
 * pre-check, the failure limiter, the recent-revocations set): a map that is
 * full drops its oldest insertion to make room. With short lifetimes that is
 * close to LRU, at O(1), and no flood of distinct keys can grow it.
 *
 * Sets `key` (moving it to the newest place) and returns the entry dropped, if any.
 */
export function setBounded<K, V>(map: Map<K, V>, max: number, key: K, value: V): [K, V] | undefined {
  let dropped: [K, V] | undefined;
  if (!map.delete(key) && map.size >= max) {
    const oldest = map.entries().next();
    if (!oldest.done) {
      dropped = oldest.value;
      map.delete(oldest.value[0]);
    }
  }
  map.set(key, value);
  return dropped;
}
