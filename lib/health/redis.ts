import type { Component } from "./component";

/** Caches and rate limits: optional, so its absence is reported, never treated as an outage. */
export const redis: Component = {
  name: "redis",
  async check({ deps }) {
    if (!deps.redis) return { status: "not_configured", message: "UPSTASH_REDIS_REST_URL and UPSTASH_REDIS_REST_TOKEN are not set" };
    const answer = await deps.redis.ping();
    return answer === "PONG" ? { status: "ok", message: "PING answered PONG" } : { status: "degraded", message: `PING answered ${JSON.stringify(answer)}, expected PONG` };
  },
  advice(env) {
    return `Check UPSTASH_REDIS_REST_URL (${env.redis?.url ?? "unset"}) and UPSTASH_REDIS_REST_TOKEN (Upstash console -> Redis -> REST API).`;
  },
};
