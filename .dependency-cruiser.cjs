/* global module */
/**
 * The import graph's rules, on resolved paths (ESLint's boundary in eslint.boundaries.mjs sees only
 * import strings). Run: pnpm deps:check (part of pnpm lint).
 * @type {import("dependency-cruiser").IConfiguration}
 */
const LAYER = "^(lib|jobs/system|dev|app/ops|scripts)/";

module.exports = {
  forbidden: [
    {
      name: "no-circular",
      severity: "error",
      comment:
        "A circle among modules makes load order matter (a value read before its module has run) and means neither side can be understood, tested or removed alone. " +
        "Type-only imports count too: the circles this rule first found (lib/jobs run/execute/without-ledger, lib/providers types/outbox) were all type-only, " +
        "and they were what tied those modules together; a shared type goes in a small types module instead.",
      from: { path: "^(lib|jobs|config|app|scripts|dev|products)/" },
      to: { circular: true },
    },
    {
      name: "layer-not-to-products",
      severity: "error",
      comment: "The layer never names a product: products are joined to it in config/ (the composition root), so one can be removed without touching the layer.",
      from: { path: LAYER },
      to: { path: "^products/" },
    },
    {
      name: "layer-core-not-to-composition-root",
      severity: "error",
      comment: "lib/ and jobs/system/ sit below config/ and app/, which import them.",
      from: { path: "^(lib|jobs/system)/" },
      to: { path: "^(config|app)/" },
    },
    {
      name: "product-only-to-lib",
      severity: "error",
      comment: "A product's code reaches the layer through lib/ only; config/ and app/ import products, dev/ is local stand-ins. (Its tests/ may use test harnesses.)",
      from: { path: "^products/[^/]+/", pathNot: "^products/[^/]+/(tests|bench)/" },
      to: { path: "^(config|app|dev|scripts|jobs)/" },
    },
    {
      name: "product-not-to-other-product",
      severity: "error",
      comment: "A product stands alone, so deleting any other one leaves it whole.",
      from: { path: "^products/([^/]+)/" },
      to: { path: "^products/", pathNot: "^products/$1/" },
    },
  ],
  options: {
    doNotFollow: { path: "node_modules" },
    exclude: { path: "^(\\.next[^/]*|\\.data|node_modules)/" },
    // Type-only imports are in the graph (they are erased before a bundler sees them), and "@/..." resolves.
    tsPreCompilationDeps: true,
    tsConfig: { fileName: "tsconfig.json" },
    enhancedResolveOptions: { exportsFields: ["exports"], conditionNames: ["import", "require", "node", "default", "types"], extensions: [".ts", ".tsx", ".js", ".mjs", ".cjs", ".json"] },
    reporterOptions: {
      archi: { collapsePattern: "^(lib|jobs|dev|app|scripts|config|products)/[^/]+" },
      text: { highlightFocused: true },
    },
  },
};
