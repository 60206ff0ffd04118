import { z } from "zod";
import { defineJob } from "../../lib/jobs/define";
import type { ScheduleEntry } from "../../lib/jobs/schedules";
import { runEffects } from "../../lib/jobs/effects";
import { simVendors } from "./providers";

/**
 * The simulation's jobs: one per kind of provider promise, each a few lines of runEffects as a
 * product job is. Items are fixed, so what "done" means is known: every item's effect made once.
 */
export const CALL_ITEMS = ["c1", "c2", "c3", "c4", "c5", "c6"];
export const POST_ITEMS = ["p1", "p2", "p3"];
export const EMAIL_ITEMS = ["e1", "e2", "e3"];

/** Short backoff; timeouts (but sim-call's) a little past the first lease renewal: a timeout lands mid-page. */
const common = { pageSize: 2, concurrency: 2, backoffMs: 1_000, maxAttempts: 6 } as const;

/** Vapi-like: no idempotency key, but a record to look a lost call up in. */
export const callJob = defineJob({
  name: "sim-call",
  description: "calls, reconciled",
  // Longer than the lease: a run whose renewals fail keeps going past it unless fenced.
  timeoutMs: 90_000,
  async handler(ctx) {
    const voice = simVendors.of(ctx.providers).voice();
    const c = await runEffects<string, unknown>(ctx, {
      ...common,
      due: async ({ after, limit }) => CALL_ITEMS.filter((i) => after === undefined || i > after).slice(0, limit),
      key: (i) => `call:${i}`,
      work: (i, e) => voice.call({ customer: { number: i }, key: e.key }),
      reconcile: (i, e) => voice.findCall({ number: i, since: new Date(0), until: ctx.now, key: e.key }),
      // Pages of three, one call at a time, the next page claimed ahead: a long run keeps starting
      // calls of the pages it claimed while its lease runs, and a run that dies leaves a page it
      // claimed ahead and never started to be looked up by the next.
      pageSize: CALL_ITEMS.length / 2,
      concurrency: 1,
      lookahead: true,
    });
    return { ...c, retryAt: undefined };
  },
});

/** Slack-like: no key, no record; a lost answer is left for a person. */
export const postJob = defineJob({
  name: "sim-post",
  description: "posts, abandoned when unknown",
  timeoutMs: 12_000,
  async handler(ctx) {
    const slack = ctx.providers.slack()!;
    const c = await runEffects<string, unknown>(ctx, {
      ...common,
      due: async ({ after, limit }) => POST_ITEMS.filter((i) => after === undefined || i > after).slice(0, limit),
      key: (i) => `post:${i}`,
      work: (i, e) => slack.post({ text: i, key: e.key }),
      onUnknown: "abandon",
    });
    return { ...c, retryAt: undefined };
  },
});

/** Resend-like, one message per item: the provider keeps the first request per key. */
export const emailJob = defineJob({
  name: "sim-email",
  description: "emails, one message each",
  payload: z.object({ item: z.string() }),
  timeoutMs: 12_000,
  async handler(ctx) {
    const email = ctx.providers.email();
    const c = await runEffects<string, unknown>(ctx, {
      ...common,
      due: async ({ after }) => (after === undefined ? [ctx.payload.item] : []),
      key: (i) => `email:${i}`,
      work: (i, e) => email.send({ to: `${i}@example.test`, subject: "s", text: "t", html: "<p>t</p>", idempotencyKey: e.key }),
      onUnknown: "retry-with-key",
      // Long enough that other messages run while one waits out its backoff.
      backoffMs: 30_000,
    });
    return { ...c, retryAt: undefined };
  },
});

export const SIM_JOBS = [callJob, postJob, emailJob];

/**
 * The ticks' schedules, a slot a minute. sim-call's ticks may overlap (`allow`): only the slot key
 * keeps two ticks of one slot apart. sim-post's overlap is buffer-one (one tick waits, later ones skip).
 */
export const SIM_SCHEDULES: ScheduleEntry[] = [
  { job: "sim-call", cron: "* * * * *", overlap: "allow" },
  { job: "sim-post", cron: "* * * * *", overlap: "buffer-one" },
];

/** Every effect key the simulation expects to end made once, by provider. */
export const EXPECTED = [
  ...CALL_ITEMS.map((i) => ({ provider: "voice", key: `call:${i}` })),
  ...POST_ITEMS.map((i) => ({ provider: "slack", key: `post:${i}` })),
  ...EMAIL_ITEMS.map((i) => ({ provider: "email", key: `email:${i}` })),
];
