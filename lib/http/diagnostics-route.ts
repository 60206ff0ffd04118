import type { Client } from "@upstash/qstash";
import { bearerMatches } from "../auth/bearer";
import type { Env } from "../env";
import { checkHealth, COMPONENTS, isComponent, type ComponentName, type HealthReport } from "../health";
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
 * `GET /api/diagnostics[?component=<name>]`. Anyone gets `{status}` and 200/503, enough for an
 * uptime monitor; `Authorization: Bearer <CRON_SECRET>` gets every component with its message.
 */
export function diagnosticsRoute(getDeps: () => Promise<RunDeps>, opts: DiagnosticsOptions = {}) {
  const cache = new Map<string, { at: number; report: Promise<HealthReport> }>();

  async function GET(req: Request): Promise<Response> {
    const requested = new URL(req.url).searchParams.get("component");
    if (requested !== null && !isComponent(requested)) {
      return json(400, { error: `unknown component "${requested}": use one of ${COMPONENTS.join(", ")}`, components: COMPONENTS });
    }
    let deps: RunDeps;
    try {
      deps = await getDeps();
    } catch (err) {
      // No env means no secret to check a caller against, and no logger: say only that we are down.
      console.error(`diagnostics: configuration failed to load: ${(err as Error).message}`);
      return json(503, { status: "down" });
    }
    const only: ComponentName[] | undefined = requested === null ? undefined : [requested];
    const run = () =>
      checkHealth(deps, { fetch: opts.fetch, qstash: opts.qstashClient?.(deps.env), timeoutMs: opts.timeoutMs, only });

    if (!bearerMatches(req.headers.get("authorization"), deps.env.cronSecret)) {
      const report = await cached(requested ?? "*", run);
      return json(report.status === "ok" ? 200 : 503, { status: report.status });
    }
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

  /** Concurrent anonymous requests share one report, and reuse it for a few seconds. */
  function cached(key: string, run: () => Promise<HealthReport>): Promise<HealthReport> {
    const ttl = opts.publicCacheMs ?? 10_000;
    const now = Date.now();
    const hit = cache.get(key);
    if (hit && now - hit.at < ttl) return hit.report;
    const report = run();
    cache.set(key, { at: now, report });
    // A failed report must not be served to everyone for the next few seconds.
    report.catch(() => cache.delete(key));
    return report;
  }

  return { GET };
}
