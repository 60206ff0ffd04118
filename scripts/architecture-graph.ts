/**
 * Rewrites the generated part of docs/architecture.md from the import graph (dependency-cruiser,
 * with .dependency-cruiser.cjs): the folders' edges, then the layer's modules. Run: pnpm deps:graph.
 */
import { execFileSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";

const DOC = "docs/architecture.md";
const BEGIN = "<!-- deps:graph begin -->";
const END = "<!-- deps:graph end -->";

/** `a → b` lines, one per edge, with modules collapsed to the folders `collapse` matches. */
function edges(paths: string[], includeOnly: string, collapse: string): string[] {
  const args = [...paths, "--config", ".dependency-cruiser.cjs", "--include-only", includeOnly, "--exclude", "/tests/", "--collapse", collapse, "--output-type", "text"];
  const out = execFileSync("depcruise", args, { encoding: "utf8" });
  return [...new Set(out.split("\n").filter((l) => l.includes("→")))].sort();
}

const folders = edges(["lib", "jobs", "config", "app", "scripts", "dev", "products"], "^(lib|jobs|config|app|scripts|dev|products)/", "^(lib|jobs/system|dev|app/ops|app/api|scripts|config|products/[^/]+)");
// The layer's own modules and its edges to config/ (the first list shows it has none to products/).
const layer = edges(["lib", "jobs/system", "dev", "app/ops", "scripts"], "^(lib|jobs/system|dev|app/ops|scripts|config)/", "^(lib/[^/.]+|jobs/system|dev/[^/.]+|app/ops|scripts|config)").filter((l) => !l.startsWith("config"));

const block = [
  BEGIN,
  "",
  "Folders (product tests left out), `importer → imported`:",
  "",
  "```text",
  ...folders,
  "```",
  "",
  "The layer, one level into lib/ and dev/:",
  "",
  "```text",
  ...layer,
  "```",
  "",
  END,
].join("\n");

const doc = readFileSync(DOC, "utf8");
const start = doc.indexOf(BEGIN);
const end = doc.indexOf(END);
if (start < 0 || end < 0) throw new Error(`${DOC} has no ${BEGIN} ... ${END} block`);
writeFileSync(DOC, doc.slice(0, start) + block + doc.slice(end + END.length));
console.log(`${DOC}: ${folders.length} folder edges, ${layer.length} layer edges`);
