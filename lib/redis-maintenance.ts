import type { Redis } from "@upstash/redis";

/**
 * Keys under the given prefixes must carry a TTL (caches, fixed-window rate limits). One without
 * has outlived its window: the INCR-then-EXPIRE race, or code that forgot EX. They are found with
 * SCAN MATCH <prefix>* (never KEYS *, which blocks Redis), checked with TTL in one pipeline per
 * page, and deleted; nothing outside the prefixes is touched (never FLUSHDB).
 */
export async function pruneKeysWithoutTtl(
  redis: Redis,
  prefixes: readonly string[],
  opts: { count?: number; signal?: AbortSignal } = {},
): Promise<{ scanned: number; deleted: number }> {
  let scanned = 0;
  let deleted = 0;
  for (const prefix of prefixes) {
    if (!prefix) throw new Error("an empty prefix would scan every key: give each rule a prefix");
    let cursor: string | number = "0";
    do {
      opts.signal?.throwIfAborted();
      const [next, keys]: [string | number, string[]] = await redis.scan(cursor, { match: `${globEscape(prefix)}*`, count: opts.count ?? 500 });
      cursor = next;
      scanned += keys.length;
      if (!keys.length) continue;
      const p = redis.pipeline();
      for (const k of keys) p.ttl(k);
      const ttls = await p.exec<number[]>();
      // -1: exists without expiry. -2 (gone meanwhile) and >= 0 (will expire) are left alone.
      const stale = keys.filter((_, i) => ttls[i] === -1);
      if (stale.length) deleted += await redis.del(...stale);
    } while (String(cursor) !== "0");
  }
  return { scanned, deleted };
}

/** SCAN's MATCH is a glob: a prefix is matched literally. */
const globEscape = (s: string) => s.replace(/[*?[\]\\]/g, (c) => `\\${c}`);
