import { afterAll, describe, expect, it } from "vitest";
import { catalog } from "../../config/products";
import { jobRunCommand } from "../../lib/cli/commands/job-run";
import { createCliContext } from "../../lib/cli/context";
import { memoryIo } from "../../lib/cli/io";
import { createDeps } from "../../lib/deps";
import { defineJob } from "../../lib/jobs/define";
import { createRegistry } from "../../lib/jobs/registry";
import { diagnosticsRoute } from "../../lib/http/diagnostics-route";
import { CRON_SECRET, testEnv, uniqueName } from "../support/app";

/** A job that emails, as the marketplace jobs do, through whatever provider the env gives it. */
const name = uniqueName("emails");
const job = defineJob({
  name,
  description: "t",
  handler: async ({ providers, run }) => {
    await providers.email().send({ to: "ana@example.test", subject: `Your session ${run.id}`, text: "t", html: "<p>t</p>", idempotencyKey: `reminder:${run.id}` });
    return { sent: 1 };
  },
});
const registry = createRegistry([job], []);
// Local mode without vendor keys: providers record to the outbox.
const env = testEnv({ APP_ENV: "local", APP_URL: "http://localhost:3000", RESEND_API_KEY: undefined });
const ctx = createCliContext({ env, registry, io: memoryIo() });
afterAll(() => ctx.close());

describe("the outbox is visible", () => {
  it("pnpm job:run lists what the run recorded instead of sending", async () => {
    const io = memoryIo();
    const local = createCliContext({ env, registry, io });
    expect(await jobRunCommand(local, name)).toBe(0);
    const out = io.stdout();
    expect(out).toMatch(/outbox \(local mode: recorded, not sent\), 1:/);
    expect(out).toMatch(/resend +ana@example\.test: Your session [0-9a-f-]{36} {2}\(key reminder:[0-9a-f-]{36}\)/);
    await local.close();
  });

  it("pnpm job:run shows the run's own entries only, not what other jobs recorded while it ran", async () => {
    const other = createDeps(env, registry);
    const key = `stock-alert:${uniqueName("other")}`;
    // Another job of the running stack records an entry just as this run starts.
    await other.db.rpc("provider_outbox_record", { p_provider: "resend", p_key: key, p_payload: { to: "shop@example.test", subject: "Low stock" } });
    const io = memoryIo();
    const local = createCliContext({ env, registry, io });
    expect(await jobRunCommand(local, name)).toBe(0);
    expect(io.stdout()).toMatch(/outbox \(local mode: recorded, not sent\), 1:/);
    expect(io.stdout()).not.toContain(key);
    await local.close();
    await other.db.close();
  });

  it("diagnostics show each provider's mode and the latest outbox entries", async () => {
    // With the products of the app: their vendors' modes (Stripe's among them) beside the layer's.
    const deps = createDeps(env, createRegistry([job], [], catalog));
    const route = diagnosticsRoute(async () => deps, { timeoutMs: 500 });
    const res = await route.GET(new Request("http://127.0.0.1/api/diagnostics", { headers: { authorization: `Bearer ${CRON_SECRET}` } }));
    const body = (await res.json()) as { providers: { modes: Record<string, string>; outbox: { recent: string[] } } };
    expect(body.providers.modes).toMatchObject({ resend: "outbox", stripe: "outbox", novu: "outbox" });
    expect(body.providers.outbox.recent.some((l) => l.startsWith("resend") && l.includes("ana@example.test"))).toBe(true);
    await deps.db.close();
  });
});
