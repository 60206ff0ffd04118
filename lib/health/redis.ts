import type { Redis } from "@upstash/redis";
import type { Component } from "./component";

/** Caches and rate limits: optional, so its absence is reported, never treated as an outage. */
export const redis: Component = {
  name: "redis",
  async check({ deps }) {
    if (!deps.redis) return { status: "not_configured", message: "UPSTASH_REDIS_REST_URL and UPSTASH_REDIS_REST_TOKEN are not set" };
    const answer = await deps.redis.ping();
    if (answer !== "PONG") return { status: "degraded", message: `PING answered ${JSON.stringify(answer)}, expected PONG` };
    const version = await serverVersion(deps.redis);
    // The version decides which commands exist: the local bridge on Debian's Redis 7.0 refuses the
    // 7.4/8 ones (hash-field TTLs, HGETDEL/HSETEX, JSON) that Upstash runs.
    return { status: "ok", message: "PING answered PONG", ...(version && { details: { redisVersion: version } }) };
  },
  advice(env) {
    return `Check UPSTASH_REDIS_REST_URL (${env.redis?.url ?? "unset"}) and UPSTASH_REDIS_REST_TOKEN (Upstash console -> Redis -> REST API).`;
  },
};

/** `redis_version` from INFO server, or undefined when INFO is not allowed or says nothing: the ping already passed. */
async function serverVersion(client: Redis): Promise<string | undefined> {
  try {
    const info = await client.exec<string>(["info", "server"]);
    return /^redis_version:(\S+)/m.exec(String(info))?.[1];
  } catch {
    return undefined;
  }
}
