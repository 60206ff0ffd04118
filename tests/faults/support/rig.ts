import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { randomUUID } from "node:crypto";
import postgres from "postgres";
import { inject } from "vitest";
import { startQStashServer, type QStashServer } from "../../../dev/qstash/server";
import { signJwt, type QStashClaims } from "../../../dev/qstash/sign";
import { startRedisBridge, type RedisBridge } from "../../../dev/redis-bridge/server";
import { claimsFor } from "../../support/app";
import { startTcpProxy, type TcpProxy } from "../../support/tcp-proxy";
import { createE2eDatabase, freePort, startNextProduction, type E2eDatabase, type NextApp } from "../../e2e/support";
import { startFront, type Front } from "./front";
import { startVendors, type Vendors } from "./vendors";

const ADMIN_URL = process.env.TEST_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";
const REDIS_URL = process.env.TEST_REDIS_URL ?? "redis://127.0.0.1:6379";
export const CRON_SECRET = "faults-cron-secret-0123456789abcdef";
const BRIDGE_TOKEN = "faults-bridge-token";
/** The test's own connections carry this name, so the app's can be counted apart from them. */
export const OBSERVER = "faults-observer";

/**
 * Everything one scenario breaks: the built app under `next start`, reached through a recording
 * front door (its APP_URL), with a TCP proxy in front of PostgreSQL and one in front of Redis
 * (behind the Upstash REST bridge), the local QStash server, and the providers at the edge.
 */
export interface Rig {
  db: E2eDatabase;
  sql: postgres.Sql;
  pg: TcpProxy;
  redis: TcpProxy;
  bridge: RedisBridge;
  qstash: QStashServer;
  vendors: Vendors;
  front: Front;
  app: NextApp;
  env: Record<string, string>;
  /** The pid of the process listening for the app (the one `kill -9` ends). */
  pid(): number;
  /** Starts the app again on the same port (after a crash or a stop). */
  restart(): Promise<void>;
  /** A delivery as QStash makes it, signed for real for the public URL, sent through the front door. */
  deliver(path: string, body: string, o?: { messageId?: string; retried?: number; scheduleId?: string; claims?: Partial<QStashClaims>; signature?: string }): Promise<Response>;
  bearer(path: string, method?: string): Promise<Response>;
  close(): Promise<void>;
}

export async function startRig(name: string, extraEnv: Record<string, string> = {}): Promise<Rig> {
  const db = await createE2eDatabase(ADMIN_URL, `cronlayer_faults_${name.replace(/-/g, "_")}`);
  const sql = postgres(db.url, { max: 3, onnotice: () => {}, connection: { application_name: OBSERVER } });
  const pg = await startTcpProxy({ host: "127.0.0.1", port: 5432 });
  const redisTarget = new URL(REDIS_URL);
  const redis = await startTcpProxy({ host: redisTarget.hostname, port: Number(redisTarget.port || 6379) });
  const bridge = await startRedisBridge({ redisUrl: redis.url(REDIS_URL), token: BRIDGE_TOKEN, port: 0 });
  const qstash = await startQStashServer({ port: 0, currentSigningKey: `sig_faults_current_${randomUUID().slice(0, 8)}`, nextSigningKey: `sig_faults_next_${randomUUID().slice(0, 8)}` });
  const vendors = await startVendors();
  const front = await startFront();
  const port = await freePort();
  front.target = port;
  const env: Record<string, string> = {
    // Test mode: a plain-http APP_URL on this machine; everything else is configured as in production.
    APP_ENV: "test",
    APP_URL: front.url,
    QSTASH_URL: qstash.url,
    QSTASH_TOKEN: qstash.token,
    QSTASH_CURRENT_SIGNING_KEY: qstash.currentSigningKey,
    QSTASH_NEXT_SIGNING_KEY: qstash.nextSigningKey,
    CRON_SECRET,
    SCHEDULE_PREFIX: "faults",
    DATABASE_URL: pg.url(db.url),
    DATABASE_POOL_MAX: "5",
    UPSTASH_REDIS_REST_URL: bridge.url,
    UPSTASH_REDIS_REST_TOKEN: BRIDGE_TOKEN,
    STRIPE_SECRET_KEY: "sk_test_faults_0123456789",
    STRIPE_API_BASE: vendors.url,
    RESEND_API_KEY: "re_faults_0123456789",
    RESEND_BASE_URL: vendors.url,
    EMAIL_FROM: "Faults <faults@example.test>",
    SLACK_WEBHOOK_URL: `${vendors.url}/slack/hook`,
    ALERT_EMAIL: "ops@example.test",
    LOG_LEVEL: "warn",
    ...extraEnv,
  };
  const start = () => startNextProduction(env, { port, distDir: inject("faultsDistDir") });
  const rig: Rig = {
    db,
    sql,
    pg,
    redis,
    bridge,
    qstash,
    vendors,
    front,
    app: await start(),
    env,
    pid: () => listenerPid(port),
    async restart() {
      await rig.app.stop();
      rig.app = await start();
    },
    deliver(path, body, o = {}) {
      const signature = o.signature ?? signJwt(claimsFor(`${front.url}${path}`, body, o.claims), qstash.currentSigningKey);
      const headers: Record<string, string> = {
        "content-type": "application/json",
        "upstash-signature": signature,
        "upstash-message-id": o.messageId ?? `msg_${randomUUID()}`,
        "upstash-retried": String(o.retried ?? 0),
        "user-agent": "Upstash-QStash",
      };
      if (o.scheduleId) headers["upstash-schedule-id"] = o.scheduleId;
      return fetch(`${front.url}${path}`, { method: "POST", headers, body });
    },
    bearer: (path, method = "GET") => fetch(`${front.url}${path}`, { method, headers: { authorization: `Bearer ${CRON_SECRET}` } }),
    async close() {
      await rig.app.stop();
      await Promise.allSettled([qstash.close(), vendors.close(), front.close(), bridge.close()]);
      await Promise.allSettled([pg.close(), redis.close(), sql.end({ timeout: 5 })]);
      await db.drop();
    },
  };
  return rig;
}

/** The pid bound to the port, as `ss` shows it: the server process itself, whatever wraps it. */
function listenerPid(port: number): number {
  const out = execFileSync("ss", ["-ltnpH", `sport = :${port}`], { encoding: "utf8" });
  const pid = /pid=(\d+)/.exec(out)?.[1];
  if (!pid) throw new Error(`nothing listens on port ${port}: ${out}`);
  return Number(pid);
}

/** Resident memory of a process, in MiB. */
export function rssMiB(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0) / 1024;
}

/** Connections the app holds to its database right now (the test's own excluded). */
export async function appConnections(rig: Rig): Promise<number> {
  const [r] = await rig.sql<{ n: number }[]>`select count(*)::int as n from pg_stat_activity where datname = current_database() and application_name <> ${OBSERVER}`;
  return r!.n;
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
