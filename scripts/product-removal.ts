/**
 * Proves a product stands alone: in a copy of this checkout, every OTHER product is removed the way
 * the README says (its folder, its line in config/products.ts, its app/api/<name>/ routes, its
 * migrations), then the copy is typechecked and linted whole and the kept product's tests run
 * against a database migrated without the others' migrations.
 *
 *   pnpm test:product-removal <product>     one product kept
 *   pnpm test:product-removal --all         every product, two at a time (PRODUCT_REMOVAL_JOBS=n)
 *
 * The layer's tests under tests/ are not run in the copy: they exercise the whole catalog.
 */
import { spawn } from "node:child_process";
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { availableParallelism, tmpdir } from "node:os";
import { join, resolve } from "node:path";

const ROOT = resolve(import.meta.dirname, "..");
/** Not copied: installed packages (linked instead), build output and local data. */
const SKIP = /^(node_modules|\.next.*|\.data|\.git|\.faults-out|test-results|coverage|tsconfig\.tsbuildinfo)$/;

const products = readdirSync(join(ROOT, "products"), { withFileTypes: true })
  .filter((d) => d.isDirectory())
  .map((d) => d.name)
  .sort();

/** A product's migrations: its name is a `_`-separated part of the file's name (20261130002000_forms.sql, ..._marketplace_payouts.sql). */
const isMigrationOf = (product: string, file: string) => new RegExp(`^\\d{14}_(.+_)?${product}(_.+)?\\.sql$`).test(file);

function removeProduct(copy: string, product: string) {
  rmSync(join(copy, "products", product), { recursive: true });
  rmSync(join(copy, "app", "api", product), { recursive: true, force: true });
  const dir = join(copy, "supabase", "migrations");
  for (const f of readdirSync(dir)) if (isMigrationOf(product, f)) rmSync(join(dir, f));
  const file = join(copy, "config", "products.ts");
  const src = readFileSync(file, "utf8");
  const out = src
    .split("\n")
    .filter((l) => !l.includes(`from "@/products/${product}"`))
    .join("\n")
    .replace(/(export const catalog = \[)([^\]]*)(\])/, (_, a: string, list: string, b: string) => a + list.split(",").map((s) => s.trim()).filter((s) => s && s !== product).join(", ") + b);
  if (out.includes(`@/products/${product}`) || out === src) throw new Error(`config/products.ts: could not take ${product} out`);
  writeFileSync(file, out);
}

function copyWithout(kept: string): string {
  const copy = mkdtempSync(join(tmpdir(), `cronlayer-only-${kept}-`));
  for (const entry of readdirSync(ROOT)) {
    if (SKIP.test(entry)) continue;
    cpSync(join(ROOT, entry), join(copy, entry), { recursive: true, verbatimSymlinks: true });
  }
  symlinkSync(join(ROOT, "node_modules"), join(copy, "node_modules"), "dir");
  for (const p of products) if (p !== kept) removeProduct(copy, p);
  return copy;
}

/** Runs a tool of the checkout in the copy; its lines go to `log`, so parallel checks print whole. */
function step(log: string[], name: string, cwd: string, cmd: string, args: string[]): Promise<boolean> {
  const started = Date.now();
  return new Promise((done) => {
    const child = spawn(join(ROOT, "node_modules", ".bin", cmd), args, { cwd, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    child.stdout.on("data", (d: Buffer) => (out += d));
    child.stderr.on("data", (d: Buffer) => (out += d));
    child.once("error", (err) => (out += String(err)));
    child.once("close", (code) => {
      const ok = code === 0;
      log.push(`  ${ok ? "PASS" : "FAIL"}  ${name} (${((Date.now() - started) / 1000).toFixed(1)} s)`);
      if (!ok) {
        const lines = out.trimEnd().split("\n");
        // The head names the problem; the whole output is one rerun away in the kept copy.
        log.push([...lines.slice(0, 80), ...(lines.length > 80 ? [`... ${lines.length - 80} more lines`] : [])].map((l) => `        ${l}`).join("\n"));
      }
      done(ok);
    });
  });
}

async function check(kept: string): Promise<boolean> {
  const started = Date.now();
  const copy = copyWithout(kept);
  const log = [`${kept}: only it kept, in ${copy} (copied in ${((Date.now() - started) / 1000).toFixed(1)} s)`];
  const run = (name: string, cmd: string, args: string[]) => step(log, name, copy, cmd, args);
  // The type check, lint and import graph read the same files and write nothing: side by side.
  const [types, lint, graph] = await Promise.all([
    run("next typegen", "next", ["typegen"]).then((ok) => ok && run("tsc --noEmit", "tsc", ["--noEmit", "--incremental", "false"])),
    run("lint (eslint)", "eslint", ["--max-warnings", "0", "."]),
    run("import graph (depcruise)", "depcruise", ["lib", "jobs", "config", "app", "scripts", "dev", "products", "--config", ".dependency-cruiser.cjs"]),
  ]);
  // The test run makes its own database (cronlayer_test_<its pid>, tests/support/global-setup.ts),
  // migrated from the copy's supabase/migrations: no clash with another run on this machine.
  const tests = await run(`vitest run products/${kept}/tests`, "vitest", ["run", `products/${kept}/tests`]);
  const ok = types && lint && graph && tests;
  if (ok) rmSync(copy, { recursive: true, force: true });
  log.push(`${kept}: ${ok ? "PASS" : `FAIL (copy kept at ${copy})`} in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
  console.log(log.join("\n"));
  return ok;
}

const arg = process.argv[2];
if (!arg || (arg !== "--all" && !products.includes(arg))) {
  console.error(`usage: pnpm test:product-removal <${products.join("|")}> | --all`);
  process.exit(2);
}
const kept = arg === "--all" ? products : [arg];
// Each tool is one process on one core: two products at a time keep both cores of a small machine busy.
const queue = [...kept];
const failed: string[] = [];
const parallel = Math.max(1, Math.min(Number(process.env.PRODUCT_REMOVAL_JOBS) || availableParallelism(), kept.length));
await Promise.all(
  Array.from({ length: parallel }, async () => {
    for (let p = queue.shift(); p; p = queue.shift()) if (!(await check(p))) failed.push(p);
  }),
);
failed.sort();
if (kept.length > 1) console.log(failed.length ? `FAIL: ${failed.join(", ")}` : `PASS: ${kept.join(", ")}`);
process.exit(failed.length ? 1 : 0);
