import { Client } from "@upstash/qstash";
import { composeRegistry } from "../../config/app";
import { catalog } from "../../config/products";
import { ManualClock, startQStashServer, type QStashServer } from "../../dev/qstash/server";
import { startVercelCronTicker } from "../../dev/vercel-cron";
import { createLogger } from "../../lib/log";
import type { Registry } from "../../lib/jobs/registry";
import type { RunDeps } from "../../lib/jobs/run";
import { createProviders } from "../../lib/providers";
import { applyPlan, prepareSync } from "../../lib/qstash/sync";
import { createRedis } from "../../lib/redis";
import { CRON_SECRET, KEYS, testEnv } from "../support/app";
import { testDatabaseUrl } from "../support/db";
import { VENDOR_ENV } from "../support/vendors";
import { RAZORPAY_ENV } from "../mocks/razorpay";
import { serveApp, type Gate, type Hit } from "./app-front";
import { clockedDb } from "./clocked-db";

const MINUTE = 60_000;
const DAY = 86_400_000;

/**
 * Every product's registry, as a deployment with PRODUCTS unset and STORE_TIME_ZONE=`zone` composes
 * it: the shop's zoned entry (products/commerce/schedules.ts reads the zone at import, once per
 * process) with its zone swapped, so one process can visit several zones' offset changes.
 */
export function registryIn(zone: string): Registry {
  const products = catalog.map((p) => ({ ...p, schedules: p.schedules.map((s) => ({ ...s, cron: s.cron.replace(/^CRON_TZ=\S+/, `CRON_TZ=${zone}`) })) }));
  return composeRegistry(products);
}

export interface Stack {
  clock: ManualClock;
  qstash: QStashServer;
  client: Client;
  deps: RunDeps;
  registry: Registry;
  hits: Hit[];
  /** Database round trips made by the app so far. */
  dbCalls(): number;
  close(): Promise<void>;
}

/**
 * The whole system on one manual clock from `start`: the local QStash server (signing on the wall
 * clock, since the Receiver checks nbf/exp against it), the real routes over HTTP behind `gate`,
 * deps whose run clock, lease deadlines and ledger clock (`cronlayer.clock`) all read the manual
 * clock, `pnpm qstash:schedule`'s plan applied, and Vercel's keep-alive fired at each 06:00 UTC.
 */
export async function startStack(o: { start: number; zone: string; faultyZones: boolean; gate: (h: Omit<Hit, "gate" | "status">) => Gate }): Promise<Stack> {
  const clock = new ManualClock(o.start);
  const qstash = await startQStashServer({ port: 0, clock, signingNow: Date.now, currentSigningKey: KEYS.current, nextSigningKey: KEYS.next, faultyZones: o.faultyZones });
  const client = new Client({ baseUrl: qstash.url, token: qstash.token, retry: false, enableTelemetry: false });
  // The routes ask for their deps per request; the deps need the app's URL: served first, answered once built.
  let ready!: (d: RunDeps) => void;
  const built = new Promise<RunDeps>((resolve) => (ready = resolve));
  const app = await serveApp(() => built, o.gate, () => clock.now());
  const env = testEnv({ ...VENDOR_ENV, ...RAZORPAY_ENV, APP_URL: app.url, QSTASH_URL: qstash.url, QSTASH_TOKEN: qstash.token, SCHEDULE_PREFIX: "year", STORE_TIME_ZONE: o.zone });
  const registry = registryIn(o.zone);
  const db = clockedDb(testDatabaseUrl(), () => clock.now());
  const deps: RunDeps = {
    env,
    registry,
    db,
    redis: createRedis(env.redis),
    log: createLogger(env.logLevel, {}, undefined, env.logFormat),
    providers: createProviders(env, db),
    clock: () => new Date(clock.now()),
    // The lease's deadlines are compared with the ledger's clock: the manual one.
    timers: { now: () => performance.now(), wall: () => clock.now(), setTimeout: (fn, ms) => setTimeout(fn, ms), clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout) },
  };
  ready(deps);

  const prep = await prepareSync(client, env, registry, { now: new Date(o.start) });
  if (!prep.ok) throw new Error(`qstash:schedule refused: ${prep.error ?? prep.refusals.join("; ")}`);
  const applied = await applyPlan(client, env, prep.plan);
  const failed = applied.filter((a) => !a.ok);
  if (failed.length) throw new Error(`qstash:schedule failed: ${failed.map((a) => a.error).join("; ")}`);

  // Vercel Cron (vercel.json: keep-alive daily at 06:00 UTC) on the manual clock.
  const vercel = startVercelCronTicker({ appUrl: app.url, cronSecret: CRON_SECRET, crons: [], log: () => {} });
  const at6 = (t: number) => Math.floor((t - 6 * 60 * MINUTE) / DAY) * DAY + DAY + 6 * 60 * MINUTE;
  const keepAlive = (at: number) => {
    clock.setTimer(at, async () => {
      keepAlive(at + DAY);
      // Vercel neither retries nor follows redirects; a dropped connection is a missed day.
      await vercel
        .fire("/api/cron/keep-alive")
        .then((r) => r.arrayBuffer())
        .catch(() => undefined);
    });
  };
  keepAlive(at6(o.start));

  return {
    clock,
    qstash,
    client,
    deps,
    registry,
    hits: app.hits,
    dbCalls: () => db.calls,
    async close() {
      await qstash.close();
      await app.close();
      await db.close();
    },
  };
}
