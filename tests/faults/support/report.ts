import { appendFileSync } from "node:fs";
import { inject } from "vitest";

/** Where the last run's table is written (gitignored); docs/reliability.md keeps one run's table. */
export const OUT_DIR = ".faults-out";

/** One line of the reliability table: what was broken, and what the ledger and the edge counted. */
export interface ResultRow {
  scenario: string;
  fault: string;
  deliveries: number;
  runsExpected: number;
  runsDone: number;
  effectsDoubled: number;
  effectsLost: number;
  maxRequestMs: number;
  notes?: string;
}

/** Prints the row (each scenario prints its numbers) and keeps it for the table at the end of the run. */
export function record(row: ResultRow): void {
  process.stdout.write(`[faults] ${row.scenario} / ${row.fault}: ${JSON.stringify(row)}\n`);
  appendFileSync(inject("faultsResults"), `${JSON.stringify(row)}\n`);
}

export function renderTable(rows: ResultRow[], at: Date): string {
  const head = "| scenario | fault | deliveries | runs expected | runs done | effects doubled | effects lost | max request | notes |";
  const line = "|---|---|---:|---:|---:|---:|---:|---:|---|";
  const body = rows.map(
    (r) =>
      `| ${r.scenario} | ${r.fault} | ${r.deliveries} | ${r.runsExpected} | ${r.runsDone} | ${r.effectsDoubled} | ${r.effectsLost} | ${(r.maxRequestMs / 1000).toFixed(2)} s | ${r.notes ?? ""} |`,
  );
  return [`### Run of ${at.toISOString()}`, "", head, line, ...body, ""].join("\n");
}
