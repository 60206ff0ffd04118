import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import postgres from "postgres";
import type { TestProject } from "vitest/node";
import { buildNext } from "../../e2e/support";
import { DIST_DIR, OUT_DIR, renderTable, type ResultRow } from "./report";

declare module "vitest" {
  export interface ProvidedContext {
    /** A JSON-lines file each scenario appends its row of the reliability table to. */
    faultsResults: string;
  }
}

const ADMIN_URL = process.env.TEST_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";

/**
 * Builds the app once for the whole suite, into its own folder (a `pnpm build` or an e2e build in the
 * same checkout keeps its own), and prints the reliability table of the run at the end.
 * FAULTS_REUSE_BUILD=1 keeps an existing build: for iterating on the tests, never in CI.
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
  if (!(process.env.FAULTS_REUSE_BUILD === "1" && existsSync(path.join(DIST_DIR, "BUILD_ID")))) {
    const started = Date.now();
    buildNext(DIST_DIR);
    process.stdout.write(`[faults] next build into ${DIST_DIR}: ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
  }
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
