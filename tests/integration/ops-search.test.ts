import { z } from "zod";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { defineJob } from "../../lib/jobs/define";
import { runEffects } from "../../lib/jobs/effects";
import { runJob, type RunDeps } from "../../lib/jobs/run";
import { hitCount, onlyTarget, search, SEARCH_LIMIT, type SearchResult } from "../../lib/ops/search";
import { sql, testDeps, uniqueName } from "../support/app";

// The console's search (ops_search) on the real ledger: runs and effects made by a job's own runs,
// messages and dead letters recorded by the ledger's functions.
const job = uniqueName("form-deadline");
const jobs = [
  defineJob({
    name: job,
    description: "makes the effects its payload names",
    payload: z.object({ form: z.string(), keys: z.array(z.string()), subject: z.string().optional() }),
    concurrency: { limit: 5, key: (p) => p.form },
    handler: async (ctx) => ({
      ...(await runEffects<string, unknown>(ctx, {
        due: async ({ after }) => (after === undefined ? ctx.payload.keys : []),
        key: (k) => k,
        subject: ctx.payload.subject === undefined ? undefined : () => ctx.payload.subject!,
        work: async (k) => ({ made: k }),
        pageSize: 100,
      })),
    }),
  }),
];

let deps: RunDeps;
let runId: string;
const MSG = "msg_2x7Yd3search0001";
const capKeys = Array.from({ length: 60 }, (_, i) => `cap:${String(i).padStart(3, "0")}`);
const literal = ["lit%a:1", "lit_b:1", "lit\\c:1", "litXd:1", "litYe:1"];

async function run(payload: { form: string; keys: string[]; subject?: string }, messageId?: string): Promise<string> {
  const out = await runJob({ job, payload, trigger: messageId ? "qstash" : "manual", messageId, oneTime: true }, deps);
  if (!("runId" in out) || out.status !== "succeeded") throw new Error(`run did not succeed: ${JSON.stringify(out)}`);
  return out.runId;
}

beforeAll(async () => {
  deps = testDeps(jobs);
  runId = await run({ form: "form_1", keys: ["transfer:pay_1", "transfer:pay_2"], subject: "pay_1" }, MSG);
  await run({ form: "form_2", keys: capKeys });
  await run({ form: "form_3", keys: [...literal, "día:1", "dia:1"] });
  const now = new Date();
  await deps.db.rpc("job_messages_record", { p_owner: "form:f1:deadline", p_job: job, p_message_id: MSG, p_not_before: now, p_now: now });
  await deps.db.rpc("job_messages_record", { p_owner: "form:f1:reminder", p_job: job, p_message_id: "msg_reminder_1", p_not_before: now, p_now: now });
  await deps.db.rpc("job_messages_record", { p_owner: "own%er:1", p_job: job, p_message_id: "msg_pct", p_not_before: now, p_now: now });
  await deps.db.rpc("job_messages_record", { p_owner: "ownXer:1", p_job: job, p_message_id: "msg_x", p_not_before: now, p_now: now });
  await deps.db.rpc("dead_letter_record", { p_callback: { sourceMessageId: MSG, dlqId: "dlq_search_1", url: `${deps.env.appUrl}/api/jobs/${job}`, status: 500, retried: 3, maxRetries: 3 }, p_job: job });
  // A tick that waited behind this run (buffer-one) is named on the run it waited for.
  await sql()`update job_runs set buffered_message_id = 'msg_buffered_1' where id = ${runId}`;
});
afterAll(() => deps?.db.close());

const find = (q: string) => search(deps, q);
const matched = (r: SearchResult) => ({
  runs: r.runs.map((x) => [x.id, x.matched]),
  effects: r.effects.map((x) => [x.key, x.matched]).sort(),
  messages: r.messages.map((x) => [x.message_id, x.matched]).sort(),
  dead_letters: r.dead_letters.map((x) => [x.dlq_id, x.matched]),
});
const none = { runs: [], effects: [], messages: [], dead_letters: [] };

describe("ops_search", () => {
  it("finds a run by its id, in either case", async () => {
    expect(matched(await find(runId))).toEqual({ ...none, runs: [[runId, "run id"]] });
    expect(matched(await find(runId.toUpperCase()))).toEqual({ ...none, runs: [[runId, "run id"]] });
  });

  it("finds a message id in runs, scheduled messages and dead letters, and leads straight to its run", async () => {
    const r = await find(` ${MSG} `);
    expect(matched(r)).toEqual({ runs: [[runId, "message id"]], effects: [], messages: [[MSG, "message id"]], dead_letters: [["dlq_search_1", "message id"]] });
    expect(onlyTarget(r)).toBe(`/ops/runs/${runId}`);
    expect(matched(await find("msg_buffered_1"))).toEqual({ ...none, runs: [[runId, "buffered message id"]] });
    expect(matched(await find("dlq_search_1"))).toEqual({ ...none, dead_letters: [["dlq_search_1", "dead letter id"]] });
  });

  it("finds an effect by its key, exact or by a prefix of three characters or more", async () => {
    expect(matched(await find("transfer:pay_2"))).toEqual({ ...none, effects: [["transfer:pay_2", "effect key"]] });
    expect(matched(await find("transfer:"))).toEqual({ ...none, effects: [["transfer:pay_1", "effect key prefix"], ["transfer:pay_2", "effect key prefix"]] });
    expect(matched(await find("transfer:pay_1"))).toEqual({ ...none, effects: [["transfer:pay_1", "effect key"]] });
    expect((await find("transfer:pay_1")).effects[0]).toMatchObject({ job, subject: "pay_1", status: "succeeded", run_id: runId, attempts: 1 });
    // Two characters are exact matches only; a prefix is case-sensitive.
    expect(hitCount(await find("tr"))).toBe(0);
    expect(hitCount(await find("TRANSFER:"))).toBe(0);
  });

  it("finds by subject: an effect's, a run's concurrency key, a message's owner (exact or prefix)", async () => {
    expect(matched(await find("pay_1"))).toEqual({ ...none, effects: [["transfer:pay_1", "subject"], ["transfer:pay_2", "subject"]] });
    expect(matched(await find("form_1"))).toEqual({ ...none, runs: [[runId, "subject (concurrency key)"]] });
    expect(matched(await find("form:f1:deadline"))).toEqual({ ...none, messages: [[MSG, "subject (owner)"]] });
    expect(matched(await find("form:f1:"))).toEqual({ ...none, messages: [[MSG, "subject (owner prefix)"], ["msg_reminder_1", "subject (owner prefix)"]] });
  });

  it("lists at most SEARCH_LIMIT effects under a prefix: the first keys in order", async () => {
    const r = await find("cap:");
    expect(r.effects).toHaveLength(SEARCH_LIMIT);
    expect(r.effects.map((e) => e.key).sort()).toEqual(capKeys.slice(0, SEARCH_LIMIT));
    expect(new Set(r.effects.map((e) => e.matched))).toEqual(new Set(["effect key prefix"]));
    // The ledger's own bound holds whatever a caller asks for.
    const wide = await deps.db.rpc<SearchResult>("ops_search", { p_q: "cap:", p_limit: 100_000 });
    expect(wide.effects).toHaveLength(60);
  });

  it("finds nothing for a string that matches nothing, or for nothing at all", async () => {
    for (const q of ["no-such-thing-anywhere", "", "   ", "00000000-0000-0000-0000-000000000000"]) expect(await find(q)).toEqual(none);
  });

  it("takes LIKE wildcards, backslashes, quotes and accents literally", async () => {
    expect(matched(await find("lit%"))).toEqual({ ...none, effects: [["lit%a:1", "effect key prefix"]] });
    expect(matched(await find("lit_"))).toEqual({ ...none, effects: [["lit_b:1", "effect key prefix"]] });
    expect(matched(await find("lit\\"))).toEqual({ ...none, effects: [["lit\\c:1", "effect key prefix"]] });
    expect(matched(await find("lit%a:1"))).toEqual({ ...none, effects: [["lit%a:1", "effect key"]] });
    expect(matched(await find("lit"))).toEqual({ ...none, effects: literal.map((k) => [k, "effect key prefix"]).sort() });
    expect(matched(await find("día"))).toEqual({ ...none, effects: [["día:1", "effect key prefix"]] });
    expect(matched(await find("own%"))).toEqual({ ...none, messages: [["msg_pct", "subject (owner prefix)"]] });
    for (const q of ["%", "%%%", "___", "\\\\\\", "%:1", "_%_", ".*", "x'; drop table effects; --"]) expect(await find(q)).toEqual(none);
    expect(await sql()`select count(*)::int as n from effects`).toEqual([{ n: 2 + 60 + literal.length + 2 }]);
  });
});
