import { parseDuration } from "./duration";
import type { FlowSpec } from "./types";

/** `parallelism=5, rate=10, period=1m` (any subset; period in seconds or as a duration). */
export function parseFlowControl(key: string, value: string): FlowSpec {
  const spec: FlowSpec = { key, period: 1 };
  for (const part of value.split(",")) {
    if (part.trim() === "") continue;
    const [name, raw = ""] = part.split("=").map((s) => s.trim());
    const v = raw.trim();
    if (name === "parallelism" || name === "rate") {
      if (!/^\d+$/.test(v) || Number(v) < 1) throw new Error(`invalid Upstash-Flow-Control-Value: ${name} must be a whole number >= 1, got "${v}"`);
      spec[name] = Number(v);
    } else if (name === "period") {
      const ms = parseDuration(v);
      if (ms === undefined || ms < 1000) throw new Error(`invalid Upstash-Flow-Control-Value: period must be at least 1s, got "${v}"`);
      spec.period = Math.round(ms / 1000);
    } else {
      throw new Error(`invalid Upstash-Flow-Control-Value: unknown setting "${name}" (use parallelism, rate, period)`);
    }
  }
  if (spec.parallelism === undefined && spec.rate === undefined) throw new Error("invalid Upstash-Flow-Control-Value: give parallelism and/or rate, e.g. parallelism=5, rate=10, period=1m");
  return spec;
}
