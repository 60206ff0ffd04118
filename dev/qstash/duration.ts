/** Durations as QStash reads them: the parser is shared with the app's settings (lib/time/duration.ts). */
import { parseDuration } from "../../lib/time/duration";

export { parseDuration };

export const ONE_DAY_MS = 86_400_000;

/**
 * The wait a `Retry-After` (or `X-RateLimit-Reset`) answer asks for, capped at one day: seconds,
 * an HTTP date, or a Go duration.
 */
export function parseRetryAfter(value: string | undefined, now: number, header: "retry-after" | "x-ratelimit-reset" = "retry-after"): number | undefined {
  if (value === undefined) return undefined;
  const v = value.trim();
  let ms: number | undefined;
  if (/^\d+(\.\d+)?$/.test(v)) {
    const n = Number(v);
    // Rate-limit headers often carry the reset instant in unix seconds rather than a wait.
    ms = header === "x-ratelimit-reset" && n > 1e9 ? n * 1000 - now : n * 1000;
  } else {
    ms = parseDuration(v);
    if (ms === undefined) {
      const at = Date.parse(v);
      if (!Number.isNaN(at)) ms = at - now;
    }
  }
  if (ms === undefined) return undefined;
  return Math.min(ONE_DAY_MS, Math.max(0, Math.round(ms)));
}
