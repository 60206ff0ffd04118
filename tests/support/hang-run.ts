/**
 * A process that opens a run through the real runJob and then hangs in its handler, so a test can
 * kill it with SIGKILL mid-run. argv: <database url> <job name> <message id> <lease ms> <renew ms>.
 * Prints "started <run id>" once the handler runs.
 */
import { createDeps } from "../../lib/deps";
import { defineJob } from "../../lib/jobs/define";
import { createRegistry } from "../../lib/jobs/registry";
import { runJob } from "../../lib/jobs/run";

const [databaseUrl, name, messageId, leaseMs, renewMs] = process.argv.slice(2);
if (!databaseUrl || !name || !messageId || !leaseMs || !renewMs) {
  console.error("usage: hang-run.ts <database url> <job> <message id> <lease ms> <renew ms>");
  process.exit(2);
}
globalThis.__cronlayerTestDatabaseUrl = databaseUrl;
const { testEnv } = await import("./app");

const job = defineJob({
  name,
  description: "hangs until killed",
  timeoutMs: 120_000,
  handler: async ({ run }) => {
    process.stdout.write(`started ${run.id}\n`);
    await new Promise(() => setInterval(() => {}, 60_000));
  },
});
const deps = createDeps(testEnv(), createRegistry([job], []));
deps.lease = { leaseMs: Number(leaseMs), renewMs: Number(renewMs) };
await runJob({ job: name, payload: {}, trigger: "qstash", messageId }, deps);
