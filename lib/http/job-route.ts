import { authenticate, type Trigger } from "../auth";
import { describeError, toHttpFailure } from "../errors";
import { runJob, type RunDeps, type RunOutcome } from "../jobs/run";
import { parsePayload } from "./payload";
import { keepSettling } from "./settle";
import { refuseMisconfigured } from "./misconfigured";
import { json, nonRetryable } from "./respond";
import { checkSlot, signedUrl, slotQueryOf } from "./slot-params";

export type Kind = "cron" | "jobs";
type Params = { params: Promise<{ job: string }> };

/**
 * Builds the handlers of `app/api/<kind>/[job]/route.ts`. `cron` serves the scheduled jobs of the
 * registry; `jobs` serves every job (one-time and event jobs published to QStash).
 */
export function jobRoute(kind: Kind, getDeps: () => Promise<RunDeps>) {
  async function handle(req: Request, { params }: Params): Promise<Response> {
    const { job: name } = await params;
    let deps: RunDeps;
    try {
      deps = await getDeps();
    } catch (err) {
      return refuseMisconfigured(err);
    }
    const raw = await req.text();
    // Authenticate before anything else: an anonymous caller learns nothing, not even which jobs exist.
    // The signature is bound to the public URL QStash was given, not to whatever host we see; a
    // slot run's URL carries its slot and trigger, so they are signed too.
    const slotQuery = slotQueryOf(req);
    const url = signedUrl(`${deps.env.appUrl}/api/${kind}/${name}`, slotQuery);
    const auth = await authenticate(req, raw, url, { keys: deps.env.qstash, cronSecret: deps.env.cronSecret });
    if (!auth.ok) {
      deps.log.warn("auth.rejected", { path: `/api/${kind}/${name}`, reason: auth.reason });
      return json(401, { error: auth.reason });
    }
    const job = deps.registry.get(name);
    if (!job || (kind === "cron" && !deps.registry.scheduleOf(name))) {
      return json(404, { error: `unknown job "${name}" at /api/${kind}`, jobs: kind === "cron" ? deps.registry.schedules.map((s) => s.job) : [...deps.registry.jobs.keys()] });
    }
    let slot: { trigger: Trigger; slotAt: Date } | undefined;
    if (slotQuery) {
      // Only QStash delivers a slot run (publishSlotRun): a Bearer caller runs the current slot.
      const check = auth.trigger === "qstash" ? checkSlot(deps.registry, name, slotQuery) : { ok: false as const, error: "slot and trigger are accepted only on QStash-signed deliveries: run past slots with pnpm job:backfill or the console's Backfill" };
      if (!check.ok) {
        deps.log.warn("job.slot.invalid", { job: name, error: check.error });
        return nonRetryable({ error: check.error });
      }
      slot = check;
    }
    const attempt = retriedOf(req.headers.get("upstash-retried"));
    if (attempt === undefined) {
      deps.log.warn("job.header.invalid", { job: name, header: "Upstash-Retried" });
      return nonRetryable({ error: "invalid Upstash-Retried header: expected a whole number from 0 to 999999" });
    }
    const payload = parsePayload(job.payload, raw);
    if (!payload.ok) {
      deps.log.warn("job.payload.invalid", { job: name, error: payload.error });
      return nonRetryable({ error: payload.error, issues: payload.issues });
    }
    const h = req.headers;
    let outcome: RunOutcome;
    try {
      outcome = await runJob(
        {
          job: name,
          payload: payload.value,
          trigger: slot?.trigger ?? auth.trigger,
          slotAt: slot?.slotAt,
          messageId: h.get("upstash-message-id") ?? undefined,
          scheduleId: h.get("upstash-schedule-id") ?? undefined,
          attempt,
          ...(auth.trigger === "qstash" ? { jti: auth.jti, jtiExpiresAt: auth.expiresAt } : {}),
          continueAfterTimeout: keepSettling,
        },
        deps,
      );
    } catch (err) {
      // The ledger could not be reached: nothing ran, so a retry loses nothing.
      deps.log.error("job.run.open_failed", { job: name, error: describeError(err) });
      return json(500, { error: `could not open the run: ${(err as Error).message}. QStash will retry; check /api/diagnostics?component=database.` });
    }
    return answer(outcome);
  }
  // Next answers HEAD with the GET handler, which would run the job: a HEAD never runs anything.
  const head = () => json(405, { error: "HEAD runs nothing: use POST (QStash) or GET with the Bearer secret" }, { Allow: "GET, POST" });
  return { GET: handle, POST: handle, HEAD: head };
}

/** QStash counts retries from 0; anything else is a forged or broken header, never a reason to 500. */
function retriedOf(header: string | null): number | undefined {
  if (header === null || header === "") return 0;
  return /^\d{1,6}$/.test(header.trim()) ? Number(header.trim()) : undefined;
}

function answer(o: RunOutcome): Response {
  switch (o.status) {
    case "succeeded":
      return json(200, { runId: o.runId, status: o.status, stats: o.stats });
    case "duplicate":
    case "skipped":
      return json(200, { runId: o.runId, status: o.status });
    case "in_flight":
      return json(
        429,
        { runId: o.runId, status: o.status, error: "a run of this message (or of its slot) is still running; retry later" },
        { "Retry-After": retryAfter(o.retryAfterMs) },
      );
    case "waiting":
      // Never 200: QStash would delete a message whose work was not done.
      return json(
        429,
        o.buffered
          ? { status: o.status, heldBy: o.heldBy, slotAt: o.buffered.slotAt, error: "overlap buffer-one: this tick waits for the run that holds the job, and runs after it; retry later" }
          : { status: o.status, heldBy: o.heldBy, running: o.running, error: "the job is at its concurrency limit for this delivery; retry later" },
        { "Retry-After": retryAfter(o.retryAfterMs) },
      );
    case "replay":
      return json(401, { error: "invalid signature: this signature was already used (replayed request)" });
    case "failed": {
      const f = toHttpFailure(o.error);
      // A run answered at its timeout still holds its job until its handler settles.
      const settling = o.settling ? { settling: "the handler is still running and holds the job's lease until it settles; a redelivery meanwhile waits (429)" } : {};
      return json(f.status, { runId: o.runId, status: o.status, ...f.body, ...settling }, f.headers);
    }
  }
}

const retryAfter = (ms: number) => String(Math.max(1, Math.ceil(ms / 1000)));
