import { campaignJobs } from "../jobs";
import { campaignRoutes } from "../http/routes";
import type { NodeRun } from "../lib/types";
import { failureRoute } from "@/lib/http/failure-route";
import { jobRoute } from "@/lib/http/job-route";
import type { RunDeps } from "@/lib/jobs/run";
import { createLogger } from "@/lib/log";
import { ManualClock } from "../../../dev/qstash/server";
import { startRig, type Rig } from "../../../tests/dev/qstash-harness";
import { KEYS, sql, testDeps } from "../../../tests/support/app";
import { serveRoutes } from "../../../tests/support/http-app";
import { VENDOR_ENV } from "../../../tests/support/vendors";

/** The campaigns API's key in these tests (CRON_SECRET is refused). */
export const CAMPAIGNS_KEY = "test-campaigns-api-key-0123456789";

/**
 * The campaign product as it runs: the local QStash server on a manual clock (signing with the
 * wall clock, which the app checks tokens against), delivering over HTTP to the real job route,
 * whose deps run on the QStash clock; its failure callback reaches the real failure route (dead
 * letters). Every log line is kept in `logs`, parsed. `restart()` replaces the app's deps (a new database pool,
 * new providers, new route handlers) while QStash keeps its messages, as a redeploy would.
 */
export interface CampaignApp {
  rig: Rig;
  url: string;
  deps(): RunDeps;
  /** The app's log lines (info and up), parsed, across restarts. */
  logs: Record<string, unknown>[];
  restart(): void;
  /** The campaigns API, in-process, with its key (CAMPAIGNS_KEY); tests assert the JSON field by field. */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  api(method: string, path: string, body?: unknown): Promise<{ status: number; body: any }>;
  close(): Promise<void>;
}

export async function startCampaignApp(start: Date, env: Record<string, string> = {}): Promise<CampaignApp> {
  const rig = await startRig({ clock: new ManualClock(start), currentSigningKey: KEYS.current, nextSigningKey: KEYS.next, signingNow: Date.now });
  let deps: RunDeps | undefined;
  let route = jobRoute("jobs", async () => deps!);
  const failed = failureRoute(async () => deps!);
  // As Next routes it: /api/jobs/failed is its own route, beside /api/jobs/[job].
  const post = async (r: Request, c: { params: Promise<{ job: string }> }) => ((await c.params).job === "failed" ? failed.POST(r) : route.POST(r, c));
  const app = await serveRoutes({ jobs: { GET: (r, c) => route.GET(r, c), POST: post } });
  const logs: Record<string, unknown>[] = [];
  const fresh = (): RunDeps => ({
    ...testDeps(campaignJobs, [], { ...VENDOR_ENV, CAMPAIGNS_API_KEY: CAMPAIGNS_KEY, ...env, APP_URL: app.url, QSTASH_URL: rig.server.url, QSTASH_TOKEN: rig.server.token }),
    clock: () => new Date(rig.clock.now()),
    log: createLogger("info", {}, (line) => void logs.push(JSON.parse(line) as Record<string, unknown>)),
  });
  deps = fresh();
  let api = campaignRoutes(async () => deps!);
  return {
    rig,
    url: app.url,
    deps: () => deps!,
    logs,
    restart() {
      const old = deps!;
      deps = fresh();
      route = jobRoute("jobs", async () => deps!);
      api = campaignRoutes(async () => deps!);
      void old.db.close();
    },
    async api(method, path, body) {
      const m = /^\/api\/campaigns(?:\/([^/?]+))?(?:\/(runs|users)(?:\/([^/?]+))?)?/.exec(path);
      if (!m) throw new Error(`not a campaigns path: ${path}`);
      const [, id, sub, user] = m;
      const req = new Request(`http://127.0.0.1:3000${path}`, {
        method,
        headers: { authorization: `Bearer ${CAMPAIGNS_KEY}`, "content-type": "application/json" },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const params = { params: Promise.resolve({ ...(id && { id }), ...(user && { productUserId: user }) }) };
      const handler =
        !id ? api.create : !sub ? api.get : sub === "users" ? api.story : method === "POST" ? api.schedule : method === "PATCH" ? api.reschedule : api.cancel;
      const res = await handler(req, params);
      return { status: res.status, body: await res.json() };
    },
    async close() {
      await rig.close();
      await app.close();
      await deps?.db.close();
    },
  };
}

/** email -> wait 8 hours -> in-app notification; the two sends in business hours, timing out after a day. */
export const THREE_NODES = {
  name: "welcome",
  zone: "UTC",
  nodes: [
    { id: "welcome_email", type: "email", config: { subject: "Welcome", text: "Hello there" }, next: "pause", timeoutSeconds: 86_400 },
    { id: "pause", type: "wait", config: { seconds: 8 * 3600 }, next: "nudge", timing: "immediate" },
    { id: "nudge", type: "notification", config: { workflowId: "campaign-nudge" }, timeoutSeconds: 86_400 },
  ],
};

export async function runsOf(campaignId: string): Promise<(NodeRun & { started_at: Date | null })[]> {
  return sql()<(NodeRun & { started_at: Date | null })[]>`
    select r.*, campaign_run_json(r) as json from campaign_node_runs r where campaign_id = ${campaignId} order by product_user_id, node_id`.then((rows) =>
    rows.map((r) => ({ ...(r as unknown as { json: NodeRun }).json, started_at: r.started_at })),
  );
}

export interface Event {
  node: string;
  from: string | null;
  to: string;
  at: Date;
  attempt: number | null;
  message_id: string | null;
  error_type: string | null;
  note: string | null;
}

export function eventsOf(campaignId: string, productUserId: string): Promise<Event[]> {
  return sql()<Event[]>`
    select r.node_id as node, e.from_state as from, e.to_state as to, e.at, e.attempt, e.message_id, e.error_type, e.note
      from campaign_node_events e join campaign_node_runs r on r.id = e.run_id
     where r.campaign_id = ${campaignId} and r.product_user_id = ${productUserId}
     order by e.id`;
}
