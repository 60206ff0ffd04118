/**
 * Durations as QStash reads them (`10s`, `5m`, `1d10h30m`, Go's `1m30s` / `500ms`), shared by the
 * local QStash server's headers and the app's settings (QSTASH_MAX_DELAY). Settings may also count
 * in years (`1y`, 365 days: QStash's pay-as-you-go maximum delay), which no QStash header takes.
 */

const UNIT_MS: Record<string, number> = {
  ns: 1e-6,
  us: 1e-3,
  µs: 1e-3,
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  y: 365 * 86_400_000,
};

const PART = /(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h|d)/y;
const PART_WITH_YEARS = /(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h|d|y)/y;

/** Milliseconds of a duration string, or undefined when it is not one. A bare number is seconds. */
export function parseDuration(text: string, opts: { years?: boolean } = {}): number | undefined {
  const s = text.trim();
  if (/^\d+(\.\d+)?$/.test(s)) return Number(s) * 1000;
  if (s === "") return undefined;
  const part = opts.years ? PART_WITH_YEARS : PART;
  let total = 0;
  part.lastIndex = 0;
  while (part.lastIndex < s.length) {
    const start = part.lastIndex;
    const m = part.exec(s);
    if (!m || m.index !== start) return undefined;
    total += Number(m[1]) * UNIT_MS[m[2]!]!;
  }
  return Math.round(total);
}

/** `7d`, `1d12h`, `30m`, `90s`: the largest whole units, for messages (days are the largest). */
export function formatDuration(ms: number): string {
  const out: string[] = [];
  let left = Math.round(ms);
  for (const [unit, size] of [["d", 86_400_000], ["h", 3_600_000], ["m", 60_000], ["s", 1000]] as const) {
    if (left >= size) {
      out.push(`${Math.floor(left / size)}${unit}`);
      left %= size;
    }
  }
  if (left > 0 || !out.length) out.push(`${left}ms`);
  return out.join("");
}
