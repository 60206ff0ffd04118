import { DateTime } from "luxon";
import type { CliContext } from "../context";
import { nextRuns, resolveCronSource } from "../cron-next";
import { inWords } from "../cron-words";
import { EXIT, UsageError } from "../errors";
import { renderTable } from "../table";

/** `pnpm cron:next <job | "<cron>"> [--tz Zone] [-n 10] [--json]` (`--from <iso>` is hidden, for tests). */
export async function cronNextCommand(ctx: CliContext, input: string, opts: { tz?: string; count?: number | string; from?: string; json?: boolean } = {}): Promise<number> {
  const count = Number(opts.count ?? 10);
  if (!Number.isInteger(count) || count < 1 || count > 5000) throw new UsageError(`-n must be a whole number from 1 to 5000, got ${opts.count}.`);
  let from = ctx.now();
  if (opts.from !== undefined) {
    const d = DateTime.fromISO(opts.from, { zone: "utc" });
    if (!d.isValid) throw new UsageError(`--from must be an ISO date-time such as 2026-11-23T00:00:00Z, got "${opts.from}".`);
    from = d.toJSDate();
  }
  const src = resolveCronSource(input, ctx.registry, opts.tz);
  const rows = nextRuns(src, count, from);
  const marked = rows.filter((r) => r.mark);
  if (opts.json) {
    ctx.io.out(JSON.stringify({ ...src, words: inWords(src.expression), from: from.toISOString(), runs: rows.map((r) => ({ ...r, at: r.at?.toISOString() ?? null })) }, null, 2));
    return EXIT.ok;
  }
  const other = src.displayZone !== src.zone;
  ctx.io.out(`${src.job ? `${src.job}: ` : ""}${src.expression} (${inWords(src.expression)}), read in ${src.zone}${other ? `, also shown in ${src.displayZone}` : ""}`);
  // Columns only where they say something: the zone when it is not UTC, notes when a run has one.
  const zones = [...new Set([src.zone, src.displayZone])].filter((z) => z !== "UTC");
  const notes = rows.some((r) => r.note);
  const utc = rows.some((r) => r.utcCron);
  const head = ["#", "UTC", ...zones, ...(utc ? ["UTC cron"] : []), ...(notes ? ["note"] : [])];
  const table = rows.map((r) => [
    r.n ?? "-",
    r.at ? DateTime.fromJSDate(r.at, { zone: "utc" }).toFormat("ccc yyyy-MM-dd HH:mm") : "never",
    ...zones.map((z) => (z === src.zone ? r.local : r.display)),
    ...(utc ? [r.utcCron ?? "-"] : []),
    ...(notes ? [r.note ?? ""] : []),
  ]);
  ctx.io.out(renderTable(head, table, ctx.io.columns));
  ctx.io.out(
    marked.length
      ? `${marked.length} run(s) moved, skipped or repeated by a DST change (times are croner's, the library behind slots and missed-run checks).`
      : `No DST change affects these ${rows.length} runs.`,
  );
  if (utc) ctx.io.out(
    "QStash gets the UTC crons, not the zone: qstash:schedule sends them and keep-alive re-syncs them within 48 h of each offset change (pinned dates cover the change itself).",
  );
  return EXIT.ok;
}
