import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import postgres from "postgres";
import type { TestProject } from "vitest/node";
import { sharedBuild } from "../../e2e/shared-build";
import { OUT_DIR, renderTable, type ResultRow } from "./report";

declare module "vitest" {
  export interface ProvidedContext {
    /** A JSON-lines file each scenario appends its row of the reliability table to. */
    faultsResults: string;
    /** The production build every scenario starts (tests/e2e/shared-build.ts). */
    faultsDistDir: string;
  }
}

const ADMIN_URL = process.env.TEST_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";

/**
 * Takes the run's shared production build (the same `next build` the end-to-end tests start; made
 * here when the sources changed since, reused when they did not), and prints the reliability table
 * of the run at the end.
 */
export default async function setup(project: TestProject) {
  const admin = postgres(ADMIN_URL, { max: 1, onnotice: () => {}, connect_timeout: 5 });
  try {
    await admin`select 1`;
  } catch (err) {
    throw new Error(`The fault suite needs a real PostgreSQL at ${ADMIN_URL} (${(err as Error).message}); set TEST_DATABASE_URL.`);
  } finally {
    await admin.end();
  }
  const started = Date.now();
  const dist = await sharedBuild();
  process.stdout.write(`[faults] production build in ${dist}: ${((Date.now() - started) / 1000).toFixed(1)} s (built or reused)\n`);
  project.provide("faultsDistDir", dist);
  mkdirSync(OUT_DIR, { recursive: true });
  const results = path.join(OUT_DIR, `results-${process.pid}.jsonl`);
  writeFileSync(results, "");
  project.provide("faultsResults", path.resolve(results));
  return () => {
    const rows = readFileSync(results, "utf8")
      .split("\n")
      .filter(Boolean)
      .map((l) => JSON.parse(l) as ResultRow);
    rmSync(results, { force: true });
    if (!rows.length) return;
    const table = renderTable(rows, new Date());
    writeFileSync(path.join(OUT_DIR, "last-run.md"), table);
    process.stdout.write(`\n${table}\n`);
  };
}
