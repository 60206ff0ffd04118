import js from "@eslint/js";
import tseslint from "typescript-eslint";
import { boundaries } from "./eslint.boundaries.mjs";

export default tseslint.config(
  { ignores: [".next/", ".next-e2e/", ".next-prod-e2e/", ".next-faults/", ".faults-out/", ".next-ops-e2e/", ".next-routes-e2e/", ".next-bench/", ".next-shared/", "test-results/", "node_modules/", ".data/", "next-env.d.ts", "coverage/", "dist/"] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
      "no-console": ["error", { allow: ["warn", "error"] }],
    },
  },
  {
    files: ["scripts/**", "dev/**", "bench/**"],
    rules: { "no-console": "off" },
  },
  // Who may import whom: the layer never names a product, a product reaches the layer only through @/lib.
  ...boundaries,
);
