import type { Client } from "@upstash/qstash";
import { bearerMatches } from "../auth/bearer";
import type { Env } from "../env";
import { checkHealth, COMPONENTS, isComponent, type ComponentName, type HealthReport } from "../health";
import { effectSummary } from "../jobs/effect-summary";
import type { RunDeps } from "../jobs/run";
import { json } from "./respond";
import { providerSummary } from "../health/providers";

export interface DiagnosticsOptions {
  /** For the vendor checks (Resend, Novu). */
  fetch?: typeof fetch;
  qstashClient?: (env: Env) => Pick<Client, "schedules">;
  /** Per-check deadline. */
  timeoutMs?: number;
  /**
   * How long an anonymous answer is reused. The endpoint is public for uptime monitors, and each
   * report calls QStash, Resend and Novu with our keys: unbounded, anyone could spend our rate limits.
   */
  publicCacheMs?: number;
}

/**
 * `GET /api/diagnostics[?component=<name> | ?job=<name>]`. Anyone without an Authorization header gets the overall
 * `{status}` and 200/503, enough for an uptime monitor; `Authorization: Bearer <CRON_SECRET>` gets
 * every component (or the one asked for) with its message, or a job's effects by status; a wrong
 * secret gets 401, as on the job routes.
 */
export function diagnosticsRoute(getDeps: () => Promise<RunDeps>, opts: DiagnosticsOptions = {}) {
  let publicReport: { at: number; report: Promise<HealthReport> } | undefined;

  async function GET(req: Request): Promise<Response> {
    let deps: RunDeps;
    try {
      deps = await getDeps();
    } catch (err) {
      // No env means no secret to check a caller against, and no logger: say only that we are down.
      console.error(`diagnostics: configuration failed to load: ${(err as Error).message}`);
      return json(503, { status: "down" });
    }
    const authorization = req.headers.get("authorization");
    if (authorization === null) {
      // Anonymous: the overall status only, whatever was asked, cached so nobody spends our vendor quotas.
      const report = await cached(() => checkHealth(deps, { fetch: opts.fetch, qstash: opts.qstashClient?.(deps.env), timeoutMs: opts.timeoutMs }));
      return json(report.status === "ok" ? 200 : 503, { status: report.status });
    }
    if (!bearerMatches(authorization, deps.env.cronSecret)) {
      deps.log.warn("auth.rejected", { route: "diagnostics", reason: deps.env.cronSecret ? "wrong Bearer secret" : "CRON_SECRET is not set" });
      return json(401, { error: deps.env.cronSecret ? "wrong Bearer secret" : "Bearer authentication is disabled: CRON_SECRET is not set" });
    }
    const job = new URL(req.url).searchParams.get("job");
    if (job !== null) return jobEffects(deps, job);
    const params = new URL(req.url).searchParams;
    for (const section of deps.registry.products.flatMap((p) => p.diagnostics)) {
      const value = params.get(section.param);
      if (value !== null) {
        const { status, body } = await section.answer(deps, value);
        return json(status, body);
      }
    }
    const requested = new URL(req.url).searchParams.get("component");
    if (requested !== null && !isComponent(requested)) {
      return json(400, { error: `unknown component "${requested}": use one of ${COMPONENTS.join(", ")}`, components: COMPONENTS });
    }
    const only: ComponentName[] | undefined = requested === null ? undefined : [requested];
    const run = () =>
      checkHealth(deps, { fetch: opts.fetch, qstash: opts.qstashClient?.(deps.env), timeoutMs: opts.timeoutMs, only });

    const report = await run();
    if (report.status !== "ok") {
      const failing = Object.fromEntries(
        Object.entries(report.components)
          .filter(([, r]) => r.status === "down" || r.status === "degraded")
          .map(([n, r]) => [n, { status: r.status, message: r.message }]),
      );
      deps.log.warn("diagnostics.not_ok", { status: report.status, failing });
    }
    const providers = requested === null ? { providers: await providerSummary(deps) } : {};
    return json(report.status === "ok" ? 200 : 503, { ...report, ...providers });
  }

  /** A job's effects by status, and the unknown and abandoned ones that need a person. */
  async function jobEffects(deps: RunDeps, job: string): Promise<Response> {
    if (!deps.registry.get(job)) return json(400, { error: `unknown job "${job}": use one of ${[...deps.registry.jobs.keys()].sort().join(", ")}` });
    try {
      return json(200, { job, effects: await effectSummary(deps.db, job) });
    } catch (err) {
      return json(503, { job, error: `could not read the effects: ${(err as Error).message}` });
    }
  }

  /** Concurrent anonymous requests share one report, and reuse it for a few seconds. */
  function cached(run: () => Promise<HealthReport>): Promise<HealthReport> {
    const ttl = opts.publicCacheMs ?? 10_000;
    const now = Date.now();
    if (publicReport && now - publicReport.at < ttl) return publicReport.report;
    const report = run();
    const entry = { at: now, report };
    publicReport = entry;
    // A failed report must not be served to everyone for the next few seconds.
    report.catch(() => {
      if (publicReport === entry) publicReport = undefined;
    });
    return report;
  }

  return { GET };
}
