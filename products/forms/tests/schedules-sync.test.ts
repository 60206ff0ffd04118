import { http, HttpResponse } from "msw";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { schedulesSyncRoute } from "@/lib/http/schedules-sync-route";
import { startRig, type Rig } from "../../../tests/dev/qstash-harness";
import { server as msw } from "../../../tests/mocks/server";
import { CRON_SECRET, testEnv, uniqueName } from "../../../tests/support/app";
import { registryOf } from "../../../tests/support/registry";
import forms from "../index";
import { createLogger } from "@/lib/log";

/**
 * POST /api/schedules/sync runs `pnpm qstash:schedule --json` for a deploy hook: the same plan,
 * apply and verify against the local QStash server, the same refusals, Bearer only.
 */
const registry = registryOf(forms);
let rig: Rig;
beforeAll(async () => {
  rig = await startRig();
});
afterAll(async () => {
  await rig.close();
});

const prefix = uniqueName("deploy");
const deps = (env: Record<string, string> = {}) => ({
  env: testEnv({ APP_URL: "http://127.0.0.1:9", QSTASH_URL: rig.server.url, QSTASH_TOKEN: rig.server.token, SCHEDULE_PREFIX: prefix, ...env }),
  registry,
  log: createLogger("silent"),
});
const sync = async (body?: unknown, env: Record<string, string> = {}, auth: string | null = `Bearer ${CRON_SECRET}`) => {
  const headers: Record<string, string> = auth ? { authorization: auth } : {};
  const res = await schedulesSyncRoute(async () => deps(env)).POST(
    new Request("http://127.0.0.1/api/schedules/sync", { method: "POST", headers, body: body === undefined ? undefined : JSON.stringify(body) }),
  );
  return { status: res.status, body: (await res.json()) as Record<string, unknown> & { plan?: Record<string, unknown> } };
};
const ours = async () => (await rig.client.schedules.list()).filter((s) => s.scheduleId.startsWith(`${prefix}-`)).map((s) => s.scheduleId).sort();
const expected = registry.schedules.filter((s) => s.via !== "vercel" && s.only !== "local").map((s) => `${prefix}-${s.job}`).sort();

describe("POST /api/schedules/sync", () => {
  it("without the Bearer secret: 401, nothing planned", async () => {
    expect((await sync(undefined, {}, null)).status).toBe(401);
    expect((await sync(undefined, {}, "Bearer wrong")).status).toBe(401);
    expect(await ours()).toEqual([]);
  });

  it("a dry run answers the plan and applies nothing", async () => {
    const r = await sync({ dryRun: true });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ status: "pending", prefix, plan: { create: expected, update: [], delete: [] } });
    expect(expected).toContain(`${prefix}-check-forms`);
    expect(await ours()).toEqual([]);
  });

  it("applies the registry, verifies it, and a second call changes nothing", async () => {
    const r = await sync();
    expect(r).toMatchObject({ status: 200, body: { status: "applied", verified: true } });
    expect(await ours()).toEqual(expected);
    const again = await sync();
    expect(again).toMatchObject({ status: 200, body: { status: "in-sync", plan: { create: [], unchanged: expected } } });
    expect((await sync({ check: true })).body).toMatchObject({ status: "in-sync" });
  });

  it("refuses what the CLI refuses: a localhost APP_URL against cloud QStash, before any request", async () => {
    let cloudCalls = 0;
    msw.use(http.all("https://qstash.upstash.io/*", () => (cloudCalls++, HttpResponse.json([]))));
    const r = await sync(undefined, { QSTASH_URL: "https://qstash.upstash.io" });
    expect(r.status).toBe(409);
    expect(r.body).toMatchObject({ status: "refused", errors: [expect.stringMatching(/^refusing to schedule against cloud QStash: APP_URL http:\/\/127\.0\.0\.1:9\/ is on this machine/)] });
    expect(r.body.notes).toContain("Nothing was sent to QStash.");
    expect(cloudCalls).toBe(0);
  });

  it("bad options: 400 naming them", async () => {
    const r = await sync({ plan: "gold" });
    expect(r.status).toBe(400);
    expect(r.body.error).toMatch(/^invalid options: plan: /);
  });
});
