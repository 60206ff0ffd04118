import js from "@eslint/js";
import tseslint from "typescript-eslint";

export default tseslint.config(
  { ignores: [".next/", ".next-e2e/", ".next-prod-e2e/", ".next-faults/", ".faults-out/", ".next-ops-e2e/", ".next-routes-e2e/", "test-results/", "node_modules/", ".data/", "next-env.d.ts", "coverage/"] },
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
  {
    // Production code must never reach into the local stand-ins.
    files: ["app/**", "lib/**", "jobs/**", "config/**"],
    rules: {
      "no-restricted-imports": ["error", { patterns: [{ group: ["**/dev/**", "@/dev/*"], message: "dev/ is for local stand-ins only." }] }],
    },
  },
);
