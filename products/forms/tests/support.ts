import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import formsProduct from "../index";
import { formsRoutes } from "../http/routes";
import { createDeps } from "@/lib/deps";
import { schedulesSyncRoute } from "@/lib/http/schedules-sync-route";
import { failureRoute } from "@/lib/http/failure-route";
import { jobRoute } from "@/lib/http/job-route";
import type { RunDeps } from "@/lib/jobs/run";
import type { QStashServerOptions } from "../../../dev/qstash/server";
import { startRig, type Rig } from "../../../tests/dev/qstash-harness";
import { VAPI_ENV } from "../../../tests/mocks/vapi";
import { KEYS, sql, testEnv } from "../../../tests/support/app";
import { registryOf } from "../../../tests/support/registry";

/** The forms API's key in these tests (the clinic's app holds it; CRON_SECRET is refused). */
export const FORMS_KEY = "test-forms-api-key-0123456789";

type Handler = (req: Request, ctx?: { params: Promise<Record<string, string>> }) => Promise<Response>;

/** The product's routes, built by the same factories as app/api, over the deps of the moment. */
function routesOf(getDeps: () => Promise<RunDeps>): [method: string, pattern: RegExp, handler: Handler][] {
  const forms = formsRoutes(getDeps);
  const jobsRoute = jobRoute("jobs", getDeps);
  const cronRoute = jobRoute("cron", getDeps);
  const byJob = (h: (req: Request, ctx: { params: Promise<{ job: string }> }) => Promise<Response>): Handler => (req, ctx) =>
    ctx!.params.then((p) => h(req, { params: Promise.resolve({ job: p.id! }) }));
  return [
    ["POST", /^\/api\/jobs\/failed$/, failureRoute(getDeps).POST],
    ["POST", /^\/api\/jobs\/([^/]+)$/, byJob(jobsRoute.POST)],
    ["POST", /^\/api\/cron\/([^/]+)$/, byJob(cronRoute.POST)],
    ["GET", /^\/api\/cron\/([^/]+)$/, byJob(cronRoute.GET)],
    ["POST", /^\/api\/forms$/, forms.create],
    ["GET", /^\/api\/forms\/([^/]+)$/, forms.get as Handler],
    ["PATCH", /^\/api\/forms\/([^/]+)$/, forms.move as Handler],
    ["POST", /^\/api\/forms\/([^/]+)\/submit$/, forms.submit as Handler],
    ["POST", /^\/api\/schedules\/sync$/, schedulesSyncRoute(getDeps).POST],
  ];
}

export interface FormsApp {
  rig: Rig;
  url: string;
  deps: RunDeps;
  /** The forms API with its key, FORMS_KEY (or `auth` instead). */
  api(method: string, path: string, body?: unknown, auth?: string | null): Promise<{ status: number; body: Record<string, unknown> }>;
  /** A fresh app process: new deps and database pool, same URL; QStash and PostgreSQL keep everything. */
  restart(): Promise<void>;
  close(): Promise<void>;
}

/**
 * The app on a real HTTP port with the layer's jobs and the forms product's (PRODUCTS=forms), the
 * local QStash server on a manual clock delivering to it (signed with the app's keys, stamped with
 * the wall clock so signatures verify), and the app's clock following QStash's. `qstash.maxDelayMs`
 * makes the server refuse delays past it, as the free plan does.
 */
export async function startFormsApp(env: Record<string, string | undefined> = VAPI_ENV, qstash: Pick<QStashServerOptions, "maxDelayMs"> = {}): Promise<FormsApp> {
  const rig = await startRig({ currentSigningKey: KEYS.current, nextSigningKey: KEYS.next, signingNow: Date.now, ...qstash });
  let deps: RunDeps | undefined;
  let server: Server | undefined;
  let port = 0;
  const listen = async () => {
    const routes = routesOf(async () => deps!);
    server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => {
        void (async () => {
          const path = (req.url ?? "").split("?")[0]!;
          const hit = routes.map(([m, re, h]) => [m, re.exec(path), h] as const).find(([m, match]) => m === req.method && match);
          if (!hit) return void res.writeHead(404).end("no such route");
          const headers = new Headers();
          for (const [k, v] of Object.entries(req.headers)) if (typeof v === "string") headers.set(k, v);
          const request = new Request(`http://127.0.0.1${req.url}`, { method: req.method, headers, body: chunks.length ? Buffer.concat(chunks) : undefined });
          const id = hit[1]![1];
          const answer = await hit[2](request, id === undefined ? undefined : { params: Promise.resolve({ id: decodeURIComponent(id) }) });
          res.writeHead(answer.status, Object.fromEntries(answer.headers)).end(Buffer.from(await answer.arrayBuffer()));
        })().catch((err: unknown) => res.writeHead(500).end(String(err)));
      });
    });
    await new Promise<void>((resolve) => server!.listen(port, "127.0.0.1", resolve));
    port = (server.address() as AddressInfo).port;
  };
  const open = () => {
    const base = createDeps(testEnv({ APP_URL: `http://127.0.0.1:${port}`, QSTASH_URL: rig.server.url, QSTASH_TOKEN: rig.server.token, FORMS_API_KEY: FORMS_KEY, ...env }), registryOf(formsProduct));
    deps = { ...base, clock: () => new Date(rig.clock.now()) };
  };
  const stop = async () => {
    await new Promise<void>((resolve) => {
      server!.closeAllConnections();
      server!.close(() => resolve());
    });
    await deps!.db.close();
  };
  await listen();
  open();
  const app: FormsApp = {
    rig,
    url: `http://127.0.0.1:${port}`,
    get deps() {
      return deps!;
    },
    async api(method, path, body, auth = `Bearer ${FORMS_KEY}`) {
      const headers: Record<string, string> = { "content-type": "application/json" };
      if (auth !== null) headers.authorization = auth;
      const res = await fetch(`${app.url}${path}`, { method, headers, body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body) });
      return { status: res.status, body: (await res.json()) as Record<string, unknown> };
    },
    async restart() {
      await stop();
      await listen();
      open();
    },
    async close() {
      await stop();
      await rig.close();
    },
  };
  return app;
}

/** Pending forms whose deadline has passed, as if created and then lost track of (no call message). */
export async function insertOverdueForms(n: number, deadline: Date, tag: string): Promise<{ id: string; phone: string }[]> {
  const base = 10_000_000 + Math.floor(Math.random() * 80_000_000);
  const people = Array.from({ length: n }, (_, i) => ({ name: `Patient ${tag} ${i}`, phone: `+1${String(base + i * 7).padStart(10, "9")}` }));
  const patients = await sql()<{ id: string; phone: string }[]>`insert into patients ${sql()(people)} returning id, phone`;
  const forms = patients.map((p) => ({ patient_id: p.id, title: `Intake ${tag}`, deadline }));
  const rows = await sql()<{ id: string; patient_id: string }[]>`insert into forms ${sql()(forms)} returning id, patient_id`;
  const phoneOf = new Map(patients.map((p) => [p.id, p.phone]));
  return rows.map((r) => ({ id: r.id, phone: phoneOf.get(r.patient_id)! }));
}

/** A phone number no other test uses. */
export const uniquePhone = () => `+4915${String(Math.floor(Math.random() * 1e9)).padStart(9, "0")}`;
