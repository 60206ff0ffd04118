/**
 * The small tree of errors a job may throw, and the one function that maps any error to the
 * answer QStash understands: 489 + Upstash-NonRetryable-Error (straight to the DLQ), 429 +
 * Retry-After (try again later), 500 (retry with backoff).
 */

export class NonRetryableError extends Error {
  override name = "NonRetryableError";
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

export class RetryAfterError extends Error {
  override name = "RetryAfterError";
  constructor(
    message: string,
    readonly retryAfterSeconds: number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** Missing or wrong configuration: retrying will not help until someone changes it. */
export class ConfigError extends NonRetryableError {
  override name = "ConfigError";
}

/** A vendor answered with an error; `status` decides whether a retry can help. */
export class ProviderError extends Error {
  override name = "ProviderError";
  constructor(
    readonly provider: string,
    message: string,
    readonly status?: number,
    options?: { cause?: unknown },
  ) {
    super(`${provider}: ${message}`, options);
  }
}

export class TimeoutError extends Error {
  override name = "TimeoutError";
  constructor(readonly timeoutMs: number) {
    super(`the job did not finish within its timeout of ${timeoutMs} ms`);
  }
}

export interface HttpFailure {
  status: number;
  headers: Record<string, string>;
  body: { error: string; name: string; retryAfterSeconds?: number };
}

export function toHttpFailure(err: unknown): HttpFailure {
  const e = err instanceof Error ? err : new Error(String(err));
  const body = { error: e.message, name: e.name };
  if (e instanceof NonRetryableError) {
    return { status: 489, headers: { "Upstash-NonRetryable-Error": "true" }, body };
  }
  if (e instanceof RetryAfterError) {
    const s = Math.max(1, Math.ceil(e.retryAfterSeconds));
    return { status: 429, headers: { "Retry-After": String(s) }, body: { ...body, retryAfterSeconds: s } };
  }
  return { status: 500, headers: {}, body };
}

/** A JSON-safe description of an error for the ledger and logs. */
export function describeError(err: unknown): { name: string; message: string; cause?: string } {
  if (!(err instanceof Error)) return { name: "Error", message: String(err) };
  const cause = err.cause instanceof Error ? `${err.cause.name}: ${err.cause.message}` : undefined;
  return cause ? { name: err.name, message: err.message, cause } : { name: err.name, message: err.message };
}
