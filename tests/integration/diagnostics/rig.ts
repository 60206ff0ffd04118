import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, beforeEach } from "vitest";
import { createDeps } from "../../../lib/deps";
import { loadEnv } from "../../../lib/env";
import { diagnosticsRoute, type DiagnosticsOptions } from "../../../lib/http/diagnostics-route";
import { defineJob } from "../../../lib/jobs/define";
import { createRegistry } from "../../../lib/jobs/registry";
import type { RunDeps } from "../../../lib/jobs/run";
import type { ScheduleEntry } from "../../../lib/jobs/schedules";
import { NOVU_KEY, novuHandlers } from "../../mocks/novu";
import { RESEND_KEYS, resendHandlers } from "../../mocks/resend";
import { server } from "../../mocks/server";
import { testDatabaseUrl } from "../../support/db";

/**
 * What both diagnostics test files share: a registry with a zoned and a Vercel-fired entry, a
 * QStash stand-in listing schedules, a hung server and a closed port, and the route with its deps.
 */
export const APP_URL = "https://jobs.example.test";
export const SECRET = "diagnostics-secret-0123456789";
export const QSTASH_TOKEN = "qstash-test-token-diagnostics";

const jobs = ["sync-a", "sync-b", "nightly", "keep-alive"].map((name) => defineJob({ name, description: "t", handler: async () => ({}) }));
const entries: ScheduleEntry[] = [
  { job: "sync-a", cron: "*/5 * * * *" },
  // Zoned: QStash holds it as a UTC cron (India keeps one offset, so one cron all year).
  { job: "sync-b", cron: "CRON_TZ=Asia/Kolkata 0 9 * * *" },
  { job: "nightly", cron: "0 2 * * *" },
  // Fired by Vercel, not QStash: never expected in QStash.
  { job: "keep-alive", cron: "0 6 * * *", via: "vercel" },
];
export const registry = createRegistry(jobs, entries);

type Live = { scheduleId: string; cron: string; destination: string; isPaused?: boolean };
export const live = (job: string, cron: string, extra: Partial<Live> = {}): Live => ({ scheduleId: `test-${job}`, cron, destination: `${APP_URL}/api/cron/${job}`, ...extra });
export const inSync = (): Live[] => [live("sync-a", "*/5 * * * *"), live("sync-b", "30 3 * * *"), live("nightly", "0 2 * * *")];

/**
 * A QStash stand-in that answers `GET /v2/schedules` with the wire shape of QSTASH-WIRE.md. Used
 * because dev/qstash/server.ts (the project's local QStash) did not exist yet when this was written.
 */
function fakeQStash() {
  const state = { schedules: [] as Live[], requests: 0 };
  const srv = createServer((req, res) => {
    state.requests++;
    const send = (status: number, body: unknown) => res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(body));
    if (req.headers.authorization !== `Bearer ${QSTASH_TOKEN}`) return send(401, { error: "unauthorized" });
    if (req.method === "GET" && req.url === "/v2/schedules") {
      return send(
        200,
        state.schedules.map((s) => ({ createdAt: 1763800000000, method: "POST", header: { "Content-Type": ["application/json"] }, body: "{}", retries: 3, delay: 0, isPaused: false, ...s })),
      );
    }
    return send(404, { error: "not found" });
  });
  return { state, srv };
}

export const qstash = fakeQStash();
export let qstashUrl = "";
/** Accepts connections and never answers: a hung dependency. */
const hung = createServer(() => {});
export let hungUrl = "";
/**
 * A port nothing listens on. Not 1: fetch refuses port 1 itself ("bad port", a blocked port in the
 * Fetch standard), which would test undici rather than a dead service.
 */
export let closedUrl = "";
export const opened: RunDeps[] = [];

const listen = async (s: Server) => {
  await new Promise<void>((r) => s.listen(0, "127.0.0.1", r));
  return `http://127.0.0.1:${(s.address() as AddressInfo).port}`;
};

/** The hooks every diagnostics test file needs: the stand-ins listen, and close after. */
export function useDiagnosticsRig() {
  beforeAll(async () => {
    qstashUrl = await listen(qstash.srv);
    hungUrl = await listen(hung);
    const probe = createServer();
    closedUrl = await listen(probe);
    await new Promise((r) => probe.close(r));
  });
  afterAll(async () => {
    await Promise.all(opened.map((d) => d.db.close()));
    hung.closeAllConnections();
    await Promise.all([qstash.srv, hung].map((s) => new Promise((r) => s.close(r))));
  });
  beforeEach(() => {
    qstash.state.schedules = inSync();
    qstash.state.requests = 0;
    server.use(...resendHandlers, ...novuHandlers);
  });
}

export function deps(overrides: Record<string, string | undefined> = {}): RunDeps {
  const env = loadEnv({
    APP_ENV: "test",
    APP_URL,
    QSTASH_URL: qstashUrl,
    QSTASH_TOKEN,
    CRON_SECRET: SECRET,
    SCHEDULE_PREFIX: "test",
    DATABASE_URL: testDatabaseUrl(),
    RESEND_API_KEY: RESEND_KEYS.full,
    NOVU_API_KEY: NOVU_KEY,
    ...overrides,
  });
  const d = createDeps(env, registry);
  opened.push(d);
  return d;
}

export function route(d: RunDeps, opts: DiagnosticsOptions = {}) {
  return diagnosticsRoute(async () => d, { publicCacheMs: 0, ...opts }).GET;
}

/** `auth: null` sends no Authorization header at all. */
export const get = (query = "", auth: string | null = `Bearer ${SECRET}`) =>
  new Request(`http://127.0.0.1:3000/api/diagnostics${query}`, { headers: auth === null ? {} : { authorization: auth } });

export async function call(handler: (r: Request) => Promise<Response>, req: Request) {
  const res = await handler(req);
  return { status: res.status, cache: res.headers.get("cache-control"), body: (await res.json()) as Record<string, any> }; // eslint-disable-line @typescript-eslint/no-explicit-any
}

