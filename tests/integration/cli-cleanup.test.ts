import { randomUUID } from "node:crypto";
import { Client } from "@upstash/qstash";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { startQStashServer } from "../../dev/qstash/server";
import { cleanupCommand } from "../../lib/cli/commands/cleanup";
import { createCliContext } from "../../lib/cli/context";
import { memoryIo } from "../../lib/cli/io";
import { LOCAL_QSTASH, loadEnv } from "../../lib/env";
import { defineJob } from "../../lib/jobs/define";
import { createRegistry } from "../../lib/jobs/registry";

// Yearly: the local server must not fire deliveries at a closed port while the test runs.
const YEARLY = "0 0 1 1 *";
const APP_URL = "http://127.0.0.1:9/app";
const prefix = `t${randomUUID().slice(0, 6)}`;

let qstash: Awaited<ReturnType<typeof startQStashServer>>;
beforeAll(async () => void (qstash = await startQStashServer({ port: 0 })));
afterAll(() => qstash.close());

const direct = () => new Client({ baseUrl: qstash.url, token: LOCAL_QSTASH.token, retry: false });
const ids = async () => (await direct().schedules.list()).map((s) => s.scheduleId).sort();

function cli() {
  const io = memoryIo();
  const env = loadEnv({ APP_ENV: "test", APP_URL, QSTASH_URL: qstash.url, QSTASH_TOKEN: LOCAL_QSTASH.token, SCHEDULE_PREFIX: prefix });
  const job = defineJob({ name: "alpha", description: "t", handler: async () => ({}) });
  return { io, ctx: createCliContext({ env, registry: createRegistry([job], [{ job: "alpha", cron: YEARLY }]), io }) };
}

/** Ours, and three that only look like ours by their id. */
const schedules = {
  ours: { scheduleId: `${prefix}-alpha`, destination: `${APP_URL}/api/cron/alpha` },
  // A job that has left the registry is still ours to tear down.
  oursGone: { scheduleId: `${prefix}-retired-job`, destination: `${APP_URL}/api/cron/retired-job` },
  // Another deployment whose prefix extends ours: `<prefix>-eu`.
  extendedPrefix: { scheduleId: `${prefix}-eu-alpha`, destination: "https://eu.example.com/api/cron/alpha" },
  // Another deployment that reuses our prefix outright.
  samePrefixElsewhere: { scheduleId: `${prefix}-beta`, destination: "https://staging.example.com/api/cron/beta" },
  // A sibling path on our host: starts with APP_URL's text but is not under it.
  siblingPath: { scheduleId: `${prefix}-gamma`, destination: `${APP_URL}-eu/api/cron/gamma` },
};

beforeEach(async () => {
  for (const id of await ids()) await direct().schedules.delete(id);
  for (const s of Object.values(schedules)) await direct().schedules.create({ ...s, cron: YEARLY });
});

describe("pnpm qstash:cleanup touches only this deployment's schedules", () => {
  it("deletes our prefix under APP_URL and leaves same-prefix schedules of other deployments, saying why", async () => {
    const { ctx, io } = cli();
    expect(await cleanupCommand(ctx, { yes: true })).toBe(0);
    expect(io.stdout()).toContain(`deleted ${schedules.ours.scheduleId}\ndeleted ${schedules.oursGone.scheduleId}\nDeleted 2 schedule(s) with prefix "${prefix}".`);
    const others = [schedules.extendedPrefix, schedules.samePrefixElsewhere, schedules.siblingPath];
    expect(await ids()).toEqual(others.map((s) => s.scheduleId).sort());
    for (const s of others) expect(io.stderr()).toContain(`note: ${s.scheduleId} left alone: it delivers to ${s.destination}, outside APP_URL ${APP_URL}.`);
  });

  it("--dry-run --json names what it would delete and what it leaves, and deletes nothing", async () => {
    const { ctx, io } = cli();
    expect(await cleanupCommand(ctx, { dryRun: true, json: true })).toBe(0);
    const out = JSON.parse(io.stdout()) as { wouldDelete: string[]; kept: { scheduleId: string }[] };
    expect(out.wouldDelete).toEqual([schedules.ours.scheduleId, schedules.oursGone.scheduleId]);
    expect(out.kept.map((k) => k.scheduleId).sort()).toEqual([schedules.extendedPrefix, schedules.samePrefixElsewhere, schedules.siblingPath].map((s) => s.scheduleId).sort());
    expect(await ids()).toEqual(Object.values(schedules).map((s) => s.scheduleId).sort());
  });
});
