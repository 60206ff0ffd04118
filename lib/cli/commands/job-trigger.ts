import { isPrivateHost } from "../../qstash/destinations";
import type { CliContext } from "../context";
import { EXIT, UsageError } from "../errors";
import { jobOrUsage } from "./job-run";

const HINTS: Record<number, string> = {
  401: "the deployment refused the Bearer secret: CRON_SECRET here must equal the deployment's.",
  404: "the deployment does not know this job on that route: is the latest code deployed?",
  429: "busy or rate-limited: try again after Retry-After.",
  489: "permanent failure (bad payload or NonRetryableError): fix the cause, retrying will not help.",
};

/**
 * `pnpm job:trigger <job> [--payload '<json>'] [--json]`: asks the deployed app to run the job,
 * as Vercel cron and manual runs do (Bearer CRON_SECRET). Scheduled jobs go to /api/cron/<job>,
 * the others to /api/jobs/<job>; POST with the payload when one is given, GET otherwise.
 */
export async function jobTriggerCommand(ctx: CliContext, name: string, opts: { payload?: string; json?: boolean; fetch?: typeof fetch } = {}): Promise<number> {
  const { env, io } = ctx;
  jobOrUsage(ctx.registry, name);
  if (opts.payload !== undefined) {
    try {
      JSON.parse(opts.payload);
    } catch (err) {
      throw new UsageError(`--payload is not JSON (${(err as Error).message}); quote it: --payload '{"id":"..."}'`);
    }
  }
  if (!env.cronSecret) {
    io.err("error: CRON_SECRET is not set: job:trigger authenticates with it (the same value as the deployment's).");
    return EXIT.failed;
  }
  const kind = ctx.registry.scheduleOf(name) ? "cron" : "jobs";
  const url = `${env.appUrl}/api/${kind}/${name}`;
  const target = new URL(url);
  // The secret would cross the network in clear text.
  if (target.protocol !== "https:" && !isPrivateHost(target.hostname)) {
    io.err(`error: refusing to send CRON_SECRET over plain http to ${target.host}: set APP_URL to the https URL of the deployment.`);
    return EXIT.failed;
  }
  const method = opts.payload === undefined ? "GET" : "POST";
  const timeoutMs = ctx.registry.settingsOf(name).timeoutMs + 15_000;
  let res: Response;
  try {
    res = await (opts.fetch ?? fetch)(url, {
      method,
      headers: { authorization: `Bearer ${env.cronSecret}`, "user-agent": "cronlayer-cli", ...(method === "POST" ? { "content-type": "application/json" } : {}) },
      body: opts.payload,
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (err) {
    const e = err as Error & { cause?: { code?: string; message?: string } };
    io.err(`error: could not reach ${url}: ${e.cause?.code ?? e.cause?.message ?? e.message}. Is the app running at APP_URL (${env.appUrl})?`);
    return EXIT.failed;
  }
  const text = await res.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    /* not JSON: shown as text */
  }
  const ok = res.status >= 200 && res.status < 300;
  if (opts.json) io.out(JSON.stringify({ method, url, status: res.status, ok, body }, null, 2));
  else {
    io.out(`${method} ${url} -> ${res.status}${res.statusText ? ` ${res.statusText}` : ""}`);
    io.out(typeof body === "string" ? body : JSON.stringify(body, null, 2));
  }
  if (!ok) io.err(`error: the app answered ${res.status}${HINTS[res.status] ? `: ${HINTS[res.status]}` : ""}`);
  return ok ? EXIT.ok : EXIT.failed;
}
