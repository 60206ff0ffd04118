import type { Argv } from "./commands";
import type { Reply } from "./encode";

/**
 * Where Upstash answers differently from the Redis under the bridge, and what the Redis version
 * decides. Upstash is on a Redis 7.4/8 command set; Debian bookworm ships redis-server 7.0.15.
 */

/** Commands newer than 7.0, with the version that added them. */
const NEEDS: Record<string, string> = {
  hexpire: "7.4",
  hpexpire: "7.4",
  hexpireat: "7.4",
  hpexpireat: "7.4",
  httl: "7.4",
  hpttl: "7.4",
  hexpiretime: "7.4",
  hpexpiretime: "7.4",
  hpersist: "7.4",
  hgetdel: "8.0",
  hgetex: "8.0",
  hsetex: "8.0",
};

export function versionAtLeast(have: string, need: string): boolean {
  const a = have.split(".").map(Number);
  const b = need.split(".").map(Number);
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const d = (a[i] ?? 0) - (b[i] ?? 0);
    if (d !== 0) return d > 0;
  }
  return true;
}

/** An error naming the Redis version a command needs, when the bridge's Redis is older; else undefined. */
export function versionRefusal(argv: Argv, redisVersion: string): string | undefined {
  const name = (argv[0] ?? "").toLowerCase();
  const json = name.startsWith("json.");
  const need = json ? "8.0" : NEEDS[name];
  if (need === undefined || versionAtLeast(redisVersion, need)) return undefined;
  const what = json ? "JSON commands need Redis 8.0 (or Redis Stack with RedisJSON)" : `${name.toUpperCase()} needs Redis ${need} or newer`;
  return `ERR ${what}; the bridge's Redis is ${redisVersion}. Upstash runs them; locally, install a newer redis-server (Debian bookworm's package is 7.0.15) or avoid the command.`;
}

export type Send = (argv: Argv) => Promise<Reply>;

/**
 * Upstash's own readings of two commands: `SCAN ... WITHTYPE` (an Upstash extension: the keys come
 * back as key, type, key, type...) and `COPY k k` (Upstash answers 0; Redis errors "source and
 * destination objects are the same"). Undefined when the command is run as is.
 */
export function upstashReading(argv: Argv, send: Send): Promise<Reply> | undefined {
  const name = (argv[0] ?? "").toLowerCase();
  if (name === "copy" && argv.length >= 3 && argv[1] === argv[2] && !argv.slice(3).some((a) => a.toLowerCase() === "db")) {
    return Promise.resolve(0);
  }
  if (name === "scan" && argv.slice(2).some((a) => a.toLowerCase() === "withtype")) {
    return scanWithType(
      argv.filter((a, i) => i < 2 || a.toLowerCase() !== "withtype"),
      send,
    );
  }
  return undefined;
}

async function scanWithType(argv: Argv, send: Send): Promise<Reply> {
  const reply = await send(argv);
  if (!Array.isArray(reply)) return reply;
  const [cursor, keys] = reply as [Reply, Reply[]];
  // TYPE after SCAN is not atomic: a key deleted in between shows as "none", as a TYPE would say.
  // The key goes back as the bytes SCAN gave (ioredis takes Buffer arguments), so binary keys match.
  const types = await Promise.all(keys.map((k) => send(["type", k as unknown as string])));
  return [cursor, keys.flatMap((k, i) => [k, types[i]!])];
}
