/**
 * The import boundary between the layer and the products, as no-restricted-imports blocks.
 *
 * Why no-restricted-imports rather than a plugin (import-x/no-restricted-paths, boundaries): the
 * rule ships with ESLint and needs no resolver. It sees only the import string, so a relative path
 * is judged by the importing file's depth: one block per folder depth, generated below, knows how
 * many "../" reach the repo root (or leave a product). dependency-cruiser (.dependency-cruiser.cjs)
 * checks the same layer rule on resolved paths, so a trick that fools one is caught by the other.
 *
 * ESLint does not merge a rule's options across blocks (the last block wins), so every file falls
 * in exactly one block below and that block carries all of its restrictions.
 */
import { readdirSync } from "node:fs";
import { join } from "node:path";

const PRODUCTS = readdirSync(join(import.meta.dirname, "products"), { withFileTypes: true })
  .filter((d) => d.isDirectory())
  .map((d) => d.name);
const MAX_DEPTH = 8;
const EXT = "{ts,tsx,mts,cts,js,mjs,cjs}";

const up = (n) => `(\\.\\./){${n}}`;
/** A relative import, from a file `depth` folders below the root, that lands in top-level `dirs`. */
const rootRelative = (depth, dirs) => `^(\\./)?${up(depth)}(${dirs.join("|")})(/|$)`;
const alias = (dirs) => `^@/(${dirs.join("|")})(/|$)`;

const NO_DEV = { regex: "(^@/dev(/|$))|(^|/)\\.\\./(\\.\\./)*dev(/|$)", message: "dev/ is for local stand-ins only." };

/** The layer: lib, jobs/system, dev, app/ops, scripts. `strict`: lib and jobs/system, below the composition root too. */
function layerPatterns(depth, { strict, noDev }) {
  const banned = strict ? ["products", "config", "app"] : ["products"];
  return [
    { regex: alias(["products"]), message: "The layer never imports a product: a product gives the layer what it needs through config/ (the composition root)." },
    { regex: rootRelative(depth, ["products"]), message: "The layer never imports a product (relative path into products/)." },
    ...(strict
      ? [
          { regex: alias(["config", "app"]), message: "lib/ and jobs/system/ sit below the composition root: config/ and app/ import them, never the reverse." },
          { regex: rootRelative(depth, banned.filter((d) => d !== "products")), message: "lib/ and jobs/system/ never import config/ or app/ (relative path)." },
        ]
      : []),
    ...(noDev ? [NO_DEV] : []),
  ];
}

/**
 * A product: the layer only through @/lib, nothing else outside its own folder by alias, no
 * relative path out of its folder (so the folder can be deleted or moved whole). Its tests may also
 * reach the shared test support in tests/ by relative path.
 */
function productPatterns(product, depthInProduct, isTest) {
  const out = depthInProduct + 1; // "../" count that leaves products/<product>/
  const toRoot = depthInProduct + 2;
  // Its tests and benchmarks drive it with the layer's harnesses: the shared test support, the local
  // stand-ins (dev/) and the layer's own jobs (keep-alive runs a product's upkeep steps).
  const testSupport = isTest ? `(?!${up(toRoot)}(tests/(support|mocks|dev/qstash-harness)|dev|jobs/system)(/|\\.|$))` : "";
  return [
    { regex: alias(["products"]), message: `A product never imports another product, nor itself by alias: use a relative path inside products/${product}/.` },
    { regex: `^@/(?!lib(/|$)|products(/|$)${isTest ? "|tests/(support|mocks)(/|$)" : ""})`, message: "A product reaches the layer only through @/lib/... (never config/, app/, dev/, scripts/, jobs/system/)." },
    { regex: `^(\\./)?${testSupport}${up(out)}`, message: `No relative path out of products/${product}/: the layer is @/lib/...${isTest ? "; tests may use tests/support, tests/mocks, dev/ and jobs/system/" : ""}.` },
  ];
}

const rule = (patterns) => ({ "no-restricted-imports": ["error", { patterns }] });
/** Files exactly `depth` folders below `root`. */
const at = (root, depth) => `${root}/${"*/".repeat(depth)}*.${EXT}`;

const blocks = [];
// Production code outside the layer rules keeps the old guard against dev/.
blocks.push({ files: [`app/**/*.${EXT}`, `config/**/*.${EXT}`, `jobs/**/*.${EXT}`], rules: rule([NO_DEV]) });
for (const [root, opts] of [
  ["lib", { strict: true, noDev: true }],
  ["jobs/system", { strict: true, noDev: true }],
  ["app/ops", { strict: false, noDev: true }],
  ["dev", { strict: false, noDev: false }],
  ["scripts", { strict: false, noDev: false }],
]) {
  const base = root.split("/").length;
  for (let d = 0; d < MAX_DEPTH; d++) blocks.push({ files: [at(root, d)], rules: rule(layerPatterns(base + d, opts)) });
}
for (const p of PRODUCTS) {
  for (let d = 0; d < MAX_DEPTH; d++) {
    blocks.push({ files: [at(`products/${p}`, d)], ignores: [`products/${p}/tests/**`, `products/${p}/bench/**`], rules: rule(productPatterns(p, d, false)) });
    // products/<p>/tests/ is one folder down: its files sit d + 1 folders below the product.
    blocks.push({ files: [at(`products/${p}/tests`, d)], rules: rule(productPatterns(p, d + 1, true)) });
    // Its benchmarks use the same harnesses as its tests (the local QStash server, the test HTTP app).
    blocks.push({ files: [at(`products/${p}/bench`, d)], rules: rule(productPatterns(p, d + 1, true)) });
  }
}

export const boundaries = blocks;
