import { defineConfig } from "vitest/config";
import { fileURLToPath } from "node:url";

/**
 * `pnpm test:faults`: the built app under `next start` against real PostgreSQL, Redis and the local
 * QStash server, with faults injected from outside. One file at a time: each scenario has the
 * machine's two cores to itself, and its numbers are its own.
 */
export default defineConfig({
  resolve: { alias: { "@": fileURLToPath(new URL("./", import.meta.url)) } },
  test: {
    include: ["tests/faults/**/*.test.ts"],
    globalSetup: ["tests/faults/support/global-setup.ts"],
    fileParallelism: false,
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: "forks",
    env: { LOG_LEVEL: "silent" },
  },
});
