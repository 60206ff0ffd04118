import { describe, expect, it } from "vitest";
import { loadEnv } from "../../lib/env";
import { defineJob } from "../../lib/jobs/define";
import { createRegistry } from "../../lib/jobs/registry";
import type { ScheduleEntry } from "../../lib/jobs/schedules";
import { createRequestOf, desiredSchedules, type DesiredSchedule } from "../../lib/qstash/desired";
import { refusals } from "../../lib/qstash/guard";
import { checkLimits, messagesPerDay } from "../../lib/qstash/limits";
import { diffSchedule, planSchedules, type QStashSchedule } from "../../lib/qstash/plan";

const noop = async () => ({});
const registryOf = (entries: ScheduleEntry[]) =>
  createRegistry(
    ["a", "b", "c"].map((name) => defineJob({ name, description: "t", timeoutMs: 30_000, handler: noop })),
    entries,
  );
const env = loadEnv({ APP_ENV: "test", APP_URL: "https://jobs.example.com", SCHEDULE_PREFIX: "prod", QSTASH_URL: "https://qstash.upstash.io" });
const desired = (entries: ScheduleEntry[]) => desiredSchedules(registryOf(entries), env);

/** A schedule as QStash lists it after `create(createRequestOf(d))`. */
function listed(d: DesiredSchedule, over: Partial<QStashSchedule> = {}): QStashSchedule {
  const req = createRequestOf(d);
  return {
    scheduleId: d.scheduleId,
    cron: req.cron,
    destination: req.destination,
    method: "POST",
    createdAt: 1,
    retries: req.retries!,
    body: String(req.body),
    header: { "Content-Type": ["application/json"], "Cronlayer-Timeout": [String(d.timeoutSeconds)] },
    failureCallback: req.failureCallback,
    isPaused: false,
    ...over,
  };
}

describe("schedule plan", () => {
  const base = desired([{ job: "a", cron: "*/15 * * * *" }, { job: "b", cron: "0 9 * * *", retries: 5 }]);

  it("creates what QStash lacks, keeps what matches, and never counts foreign schedules as ours", () => {
    const foreign = [
      listed(base[0]!, { scheduleId: "staging-a", destination: "https://staging.example.com/api/cron/a" }),
      listed(base[0]!, { scheduleId: "scd_handmade", destination: "https://jobs.example.com/api/cron/a" }),
      listed(base[0]!, { scheduleId: "production-a" }), // "prod" is a prefix of the word, not of the id's "prod-"
    ];
    const plan = planSchedules(base, [listed(base[0]!), ...foreign], { prefix: "prod", appUrl: env.appUrl });
    expect(plan.items.map((i) => [i.action, i.scheduleId])).toEqual([
      ["create", "prod-b"],
      ["unchanged", "prod-a"],
    ]);
    expect(plan.foreign.map((s) => s.scheduleId)).toEqual(["staging-a", "scd_handmade", "production-a"]);
  });

  it("shows an update field by field, old -> new, including the timeout QStash does not list", () => {
    const next = desired([{ job: "a", cron: "*/10 * * * *", retries: 5, timeoutMs: 90_000 }, { job: "b", cron: "0 9 * * *", retries: 5 }]);
    const plan = planSchedules(next, base.map((d) => listed(d)), { prefix: "prod", appUrl: env.appUrl });
    const update = plan.items.find((i) => i.action === "update");
    expect(update && update.action === "update" && update.changes).toEqual([
      { field: "cron", from: "*/15 * * * *", to: "*/10 * * * *" },
      { field: "retries", from: "3", to: "5" },
      { field: "timeout", from: "30s", to: "90s" },
    ]);
    expect(plan.items.filter((i) => i.action === "unchanged").map((i) => i.scheduleId)).toEqual(["prod-b"]);
  });

  it("says when applying would clear what someone set by hand on our schedule", () => {
    const changes = diffSchedule(base[0]!, listed(base[0]!, { callback: "https://hooks.example.com/x", delay: 30, header: {} }));
    expect(changes).toEqual([
      { field: "timeout", from: "(not recorded)", to: "30s" },
      { field: "callback", from: "https://hooks.example.com/x", to: "(none)" },
      { field: "delay", from: "30s", to: "(none)" },
    ]);
    // Whitespace QStash trims is not a change.
    expect(diffSchedule(base[0]!, listed(base[0]!, { cron: " */15  * * * * " }))).toEqual([]);
  });

  it("deletes our schedules that left the registry, but not one that delivers outside APP_URL", () => {
    const gone = listed(base[1]!, { scheduleId: "prod-old-job", destination: "https://jobs.example.com/api/cron/old-job" });
    const elsewhere = listed(base[1]!, { scheduleId: "prod-eu-a", destination: "https://eu.example.com/api/cron/a" });
    const plan = planSchedules(base, [...base.map((d) => listed(d)), gone, elsewhere], { prefix: "prod", appUrl: env.appUrl });
    expect(plan.items.filter((i) => i.action === "delete").map((i) => [i.scheduleId, i.job])).toEqual([["prod-old-job", "old-job"]]);
    expect(plan.kept.map((k) => k.current.scheduleId)).toEqual(["prod-eu-a"]);
    expect(plan.kept[0]!.reason).toMatch(/outside APP_URL https:\/\/jobs\.example\.com .*pnpm qstash:cleanup/);
    expect(plan.warnings).toEqual([]);
  });

  it("warns when an update would take one of our ids over from another host (two environments, one prefix)", () => {
    const other = listed(base[0]!, { destination: "https://staging.example.com/api/cron/a" });
    const plan = planSchedules(base, [other, listed(base[1]!)], { prefix: "prod", appUrl: env.appUrl });
    expect(plan.items.find((i) => i.scheduleId === "prod-a")?.action).toBe("update");
    expect(plan.warnings).toEqual([
      'prod-a now delivers to https://staging.example.com/api/cron/a, another host than APP_URL https://jobs.example.com: if another environment uses SCHEDULE_PREFIX "prod", give each its own prefix before applying.',
    ]);
  });

  it("sends the job's timeout, the failure callback and the timeout header", () => {
    expect(createRequestOf(base[1]!)).toEqual({
      scheduleId: "prod-b",
      destination: "https://jobs.example.com/api/cron/b",
      cron: "0 9 * * *",
      method: "POST",
      retries: 5,
      timeout: 30,
      body: "{}",
      headers: { "Content-Type": "application/json", "Cronlayer-Timeout": "30" },
      failureCallback: "https://jobs.example.com/api/jobs/failed",
    });
  });
});

describe("refusals against cloud QStash", () => {
  const d = (appUrl: string, qstash: string) => {
    const e = loadEnv({ APP_ENV: "test", APP_URL: appUrl, QSTASH_URL: qstash, SCHEDULE_PREFIX: "prod" });
    return refusals(e, desiredSchedules(registryOf([{ job: "a", cron: "* * * * *" }]), e));
  };

  it("refuses localhost, private networks and plain http; allows all of them against a local server", () => {
    for (const url of ["http://localhost:3000", "https://127.0.0.1", "https://10.1.2.3", "https://172.20.0.5", "https://192.168.1.10", "https://[::1]:3000", "https://printer.local"]) {
      expect(d(url, "https://qstash.upstash.io"), url).toEqual([expect.stringMatching(/^refusing to schedule against cloud QStash: APP_URL .*(private network|not https)/)]);
    }
    expect(d("http://jobs.example.com", "https://qstash.upstash.io")).toEqual([
      "refusing to schedule against cloud QStash: APP_URL http://jobs.example.com/ is not https: cloud QStash must deliver to a public https URL (set APP_URL).",
    ]);
    expect(d("https://jobs.example.com", "https://qstash.upstash.io")).toEqual([]);
    expect(d("http://localhost:3000", "http://127.0.0.1:8080")).toEqual([]);
  });
});

describe("plan limits", () => {
  const from = new Date("2026-11-23T00:00:00Z");

  it("counts first deliveries over the next 24 hours from each cron, its zone included", () => {
    expect(messagesPerDay("*/15 * * * *", from)).toBe(96);
    expect(messagesPerDay("* * * * *", from)).toBe(1440);
    expect(messagesPerDay("CRON_TZ=Asia/Kolkata 0 18 * * *", from)).toBe(1);
    expect(messagesPerDay("0 3 1 * *", from)).toBe(0);
  });

  it("refuses past the free plan's 10 schedules and warns past its 1,000 messages/day, counting the account's other schedules", () => {
    const ours = Array.from({ length: 9 }, (_, i) => ({ scheduleId: `prod-j${i}`, cron: "0 * * * *" }));
    const others = [
      { scheduleId: "staging-x", cron: "*/5 * * * *" },
      { scheduleId: "scd_hand", cron: "* * * * *", isPaused: true },
    ];
    const r = checkLimits("free", ours, others, from);
    expect(r.schedules).toBe(11);
    expect(r.messagesPerDay).toBe(9 * 24 + 288);
    expect(r.refusals).toEqual([
      "11 schedules (9 for this deployment's jobs + 2 others already in the account) exceed the free plan's 10: QStash would refuse the ones over the limit and their jobs would never run. " +
        "Enable fewer products (PRODUCTS, 1 schedule(s) fewer), remove schedules of other apps from the account, or upgrade the plan and say so with --plan payg (or QSTASH_PLAN=payg).",
    ]);
    expect(r.warnings).toEqual([]);
    const busy = checkLimits("free", [{ scheduleId: "prod-every-minute", cron: "* * * * *" }], [], from);
    expect(busy.warnings).toEqual([
      "about 1,440 messages/day from schedules alone (first attempts, without retries or one-time messages) exceed the free plan's 1,000; most from prod-every-minute (1,440). Deliveries over the limit are rejected: slow the crons down or upgrade.",
    ]);
    expect(busy.refusals).toEqual([]);
    expect(checkLimits("payg", ours, others, from)).toMatchObject({ warnings: [], refusals: [] });
    expect(checkLimits("none", [{ scheduleId: "x", cron: "* * * * *" }], [], from)).toMatchObject({ warnings: [], refusals: [] });
  });
});
