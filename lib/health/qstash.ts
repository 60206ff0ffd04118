import { Client } from "@upstash/qstash";
import type { Env } from "../env";
import { isLocalQStash } from "../qstash/destinations";
import type { Component } from "./component";
import type { LiveSchedule } from "./types";

/**
 * Diagnostics' own client: no SDK retries (a check has one deadline, and five backed-off retries
 * would only turn "connection refused" into "timed out"), and never the SDK's dev mode, which
 * downloads a binary.
 */
export function diagnosticsQStashClient(env: Pick<Env, "qstash">): Client {
  return new Client({ baseUrl: env.qstash.url, token: env.qstash.token, retry: false, devMode: false, enableTelemetry: false });
}

/** A QStash answer explained in the terms of this app's configuration. */
export class QStashCheckError extends Error {
  override name = "QStashCheckError";
  constructor(
    message: string,
    readonly status: number | undefined,
  ) {
    super(message);
  }
}

/** `GET /v2/schedules`: the cheapest authenticated call, and the one the schedules check needs. */
export async function listLiveSchedules(client: Pick<Client, "schedules">, url: string): Promise<LiveSchedule[]> {
  try {
    return await client.schedules.list();
  } catch (err) {
    const status = statusOf(err);
    if (status !== undefined) {
      const why = errorText((err as Error).message);
      const detail = `HTTP ${status}${why ? `: ${why}` : ""}`;
      if (status === 401 || status === 403) throw new QStashCheckError(`QSTASH_TOKEN rejected by ${url} (${detail})`, status);
      throw new QStashCheckError(`QStash at ${url} answered ${detail}`, status);
    }
    throw err;
  }
}

/**
 * The SDK's QstashError (and its rate-limit subclasses) carry the HTTP status. Duck-typed, because a
 * bundle can hold the SDK's CJS and ESM builds side by side and `instanceof` then fails.
 */
function statusOf(err: unknown): number | undefined {
  if (!(err instanceof Error) || !err.name.startsWith("Qstash")) return undefined;
  const status = (err as { status?: unknown }).status;
  return typeof status === "number" ? status : undefined;
}

/** QStash errors are `{"error": "..."}`; anything else is shown as it came, shortened. */
function errorText(body: string): string {
  try {
    const parsed = JSON.parse(body) as { error?: unknown };
    if (typeof parsed.error === "string") return parsed.error;
  } catch {
    // not JSON: fall through
  }
  return body.startsWith("Error: status=") ? "" : body.slice(0, 200);
}

/** Delivery itself: every scheduled and one-time run arrives through QStash. */
export const qstash: Component = {
  name: "qstash",
  async check(ctx) {
    const live = await ctx.liveSchedules();
    return { status: "ok", message: `authenticated at ${ctx.deps.env.qstash.url}; it holds ${live.length} schedule${live.length === 1 ? "" : "s"}` };
  },
  advice(env, err) {
    const local = isLocalQStash(env.qstash.url);
    if (err instanceof QStashCheckError && (err.status === 401 || err.status === 403)) {
      return local
        ? "Locally, QSTASH_TOKEN must be the token the local server prints (pnpm qstash:dev), or unset for the default."
        : "Copy QSTASH_TOKEN from the Upstash console -> QStash (and QSTASH_URL for your region).";
    }
    if (err instanceof QStashCheckError) return "QStash itself is failing: see status.upstash.com, and retry.";
    return local
      ? `Nothing answers at QSTASH_URL ${env.qstash.url}: start the local server (pnpm qstash:dev, or pnpm dev).`
      : `Check QSTASH_URL (${env.qstash.url}) and the network path to it.`;
  },
};
