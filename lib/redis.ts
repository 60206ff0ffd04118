import { Redis } from "@upstash/redis";
import type { Env } from "./env";

/** Upstash Redis over REST, or undefined when not configured (diagnostics then say so). */
export function createRedis(cfg: Env["redis"]): Redis | undefined {
  if (!cfg) return undefined;
  return new Redis({ url: cfg.url, token: cfg.token, retry: { retries: 1, backoff: () => 200 } });
}
