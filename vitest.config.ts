import { configDefaults, defineConfig } from "vitest/config";
import { fileURLToPath } from "node:url";

export default defineConfig({
  resolve: { alias: { "@": fileURLToPath(new URL("./", import.meta.url)) } },
  test: {
    include: ["tests/**/*.test.ts", "products/*/tests/**/*.test.ts"],
    // The fault-injection suite runs the built app on its own: pnpm test:faults (vitest.faults.config.ts).
    exclude: [...configDefaults.exclude, "tests/faults/**"],
    globalSetup: ["tests/support/global-setup.ts"],
    setupFiles: ["tests/support/setup.ts"],
    testTimeout: 20_000,
    hookTimeout: 60_000,
    pool: "forks",
    // Vitest's default is one file fewer than the cores: a single file at a time on a 2-core machine,
    // where most files wait on PostgreSQL, a server or a child process. Each file has its own
    // database (tests/support/db.ts), e2e database, build folder and ports, so three run side by side.
    maxWorkers: 3,
    execArgv: ["--experimental-websocket"],
    env: { LOG_LEVEL: "silent" },
  },
});
