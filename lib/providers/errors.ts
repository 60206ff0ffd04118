import { ConfigError, ProviderError, RetryAfterError } from "../errors";

/**
 * How every provider turns a vendor's answer into the error tree: 429 ends the run with the
 * vendor's Retry-After; 401/403 is a configuration problem (retrying cannot fix a rejected key);
 * anything else, 5xx and network errors included, is a ProviderError that the job counts against
 * the one item and leaves for a later run.
 */
export function vendorError(
  vendor: string,
  keyVar: string,
  status: number | null | undefined,
  message: string,
  retryAfter?: string | null,
  cause?: unknown,
): Error {
  if (status === 429) {
    const s = retryAfterSeconds(retryAfter);
    return new RetryAfterError(`${vendor} is rate-limiting us (HTTP 429: ${message}); retry after ${s} s`, s, { cause });
  }
  if (status === 401 || status === 403) {
    return new ConfigError(`${vendor} rejected ${keyVar} (HTTP ${status}: ${message}). Create a new key in the ${vendor} dashboard and set ${keyVar}.`, { cause });
  }
  const what = status ? `HTTP ${status}` : "network error";
  return new ProviderError(vendor, `${what}: ${message}`, status ?? undefined, { cause });
}

/** Retry-After is either seconds or an HTTP date; without one, wait a conservative default. */
export function retryAfterSeconds(value: string | null | undefined, fallback = 30, now = Date.now()): number {
  if (!value) return fallback;
  const s = Number(value);
  if (Number.isFinite(s) && s >= 0) return Math.max(1, Math.ceil(s));
  const at = Date.parse(value);
  return Number.isNaN(at) ? fallback : Math.max(1, Math.ceil((at - now) / 1000));
}

/** A provider key missing where the mode allows no stand-in: name the variable and where to get it. */
export function missingConfig(variable: string, need: string, where: string): ConfigError {
  return new ConfigError(
    `${variable} is not set: ${need}. Get it from ${where} and set it in the Vercel project (Settings -> Environment Variables) or .env.local; see .env.example.`,
  );
}

/** A timeout per request, joined with the run's own signal when there is one. */
export function requestSignal(signal: AbortSignal | undefined, timeoutMs = 15_000): AbortSignal {
  const t = AbortSignal.timeout(timeoutMs);
  if (!signal) return t;
  const joined = AbortSignal.any([signal, t]);
  // Node 20 holds the sources of AbortSignal.any weakly: once collected, the timeout never fires and
  // a hung vendor holds the run until its own timeout (tests/faults/providers.test.ts). Keep it alive.
  Object.defineProperty(joined, "timeoutSignal", { value: t });
  return joined;
}
