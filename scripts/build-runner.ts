import { buildRunner, RUNNER_DIR } from "@/lib/build/runner-bundle";
import { cliProgram } from "@/lib/cli/program";

await cliProgram("pnpm build:runner", "Bundle the job runner (`job:run`) into one file that runs with `node`, without node_modules.")
  .option("--out-dir <dir>", "where to write runner.mjs", RUNNER_DIR)
  .option("--minify", "minify the bundle (smaller image, unreadable stack traces)")
  .action(async (opts: { outDir: string; minify?: boolean }) => {
    const r = await buildRunner({ root: process.cwd(), outDir: opts.outDir, minify: opts.minify });
    console.log(`${r.file}: ${(r.bytes / 1e6).toFixed(1)} MB. Run it: node ${r.file} <job> [--in-process]`);
  })
  .parseAsync();
