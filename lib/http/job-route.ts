import { authenticate } from "../auth";
import { describeError, toHttpFailure } from "../errors";
import { runJob, type RunDeps, type RunOutcome } from "../jobs/run";
import { parsePayload } from "./payload";
import { json, nonRetryable } from "./respond";

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
      return json(500, { error: (err as Error).message });
    }
    const job = deps.registry.get(name);
    if (!job || (kind === "cron" && !deps.registry.scheduleOf(name))) {
      return json(404, { error: `unknown job "${name}" at /api/${kind}`, jobs: kind === "cron" ? deps.registry.schedules.map((s) => s.job) : [...deps.registry.jobs.keys()] });
    }
    const raw = await req.text();
    // The signature is bound to the public URL QStash was given, not to whatever host we see.
    const url = `${deps.env.appUrl}/api/${kind}/${name}`;
    const auth = await authenticate(req, raw, url, { keys: deps.env.qstash, cronSecret: deps.env.cronSecret });
    if (!auth.ok) {
      deps.log.warn("auth.rejected", { job: name, reason: auth.reason });
      return json(401, { error: auth.reason });
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
          trigger: auth.trigger,
          messageId: h.get("upstash-message-id") ?? undefined,
          scheduleId: h.get("upstash-schedule-id") ?? undefined,
          attempt: Number(h.get("upstash-retried") ?? 0) || 0,
          ...(auth.trigger === "qstash" ? { jti: auth.jti, jtiExpiresAt: auth.expiresAt } : {}),
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
  return { GET: handle, POST: handle };
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
        { runId: o.runId, status: o.status, error: "a delivery of this message is still running; retry later" },
        { "Retry-After": String(Math.ceil(o.retryAfterMs / 1000)) },
      );
    case "replay":
      return json(401, { error: "invalid signature: this signature was already used (replayed request)" });
    case "failed": {
      const f = toHttpFailure(o.error);
      return json(f.status, { runId: o.runId, status: o.status, ...f.body }, f.headers);
    }
  }
}
