import { Client, QstashError } from "@upstash/qstash";
import type { Env } from "../env";

/**
 * The official client, for operator commands: few quick retries, so a QStash that is down is
 * reported in about a second instead of after the SDK's default backoff.
 */
export function operatorClient(env: Pick<Env, "qstash">): Client {
  return new Client({ baseUrl: env.qstash.url, token: env.qstash.token, retry: { retries: 1, backoff: () => 200 }, enableTelemetry: false });
}

/** One line that says what went wrong talking to QStash and what to check. */
export function describeQStashError(err: unknown, qstashUrl: string): string {
  if (err instanceof QstashError) {
    const status = (err as QstashError & { status?: number }).status;
    const message = apiMessage(err.message);
    if (status === 401 || status === 403) return `QStash at ${qstashUrl} refused the token (${status}: ${message}): check QSTASH_TOKEN.`;
    return `QStash at ${qstashUrl} answered ${status ?? "an error"}: ${message}`;
  }
  const e = err as Error & { cause?: { code?: string; message?: string } };
  const code = e.cause?.code ?? e.cause?.message;
  if (e instanceof TypeError || code) {
    return `QStash at ${qstashUrl} is not reachable (${code ?? e.message}). Locally, pnpm dev (or pnpm qstash:dev) starts it; otherwise check QSTASH_URL.`;
  }
  return `QStash at ${qstashUrl}: ${e.message ?? String(err)}`;
}

/** The SDK passes QStash's error body through as the message: `{"error":"..."}`. */
function apiMessage(message: string): string {
  try {
    const body = JSON.parse(message) as { error?: unknown };
    return typeof body.error === "string" ? body.error : message;
  } catch {
    return message;
  }
}
