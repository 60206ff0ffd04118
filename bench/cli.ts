import { spawnSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { checkoutOf } from "./before";

const ROOT = fileURLToPath(new URL("../", import.meta.url));

/** What a person waits for at the prompt: each command as `pnpm <script>` runs it (tsx, no pnpm). */
const COMMANDS: [string, string[]][] = [
  ["job:run --help", ["scripts/job-run.ts", "--help"]],
  ["qstash:stats --help", ["scripts/qstash-stats.ts", "--help"]],
  ['cron:next "0 9 * * *"', ["scripts/cron-next.ts", "0 9 * * *", "-n", "3"]],
  ["job:run heartbeat --dry-run", ["scripts/job-run.ts", "heartbeat", "--dry-run"]],
];

function timeOnce(cwd: string, args: string[]): number {
  const t = process.hrtime.bigint();
  const r = spawnSync(path.join(ROOT, "node_modules/.bin/tsx"), args, { cwd, encoding: "utf8", env: { ...process.env, APP_ENV: "local", DATABASE_URL: "postgres://postgres@127.0.0.1:5432/postgres" } });
  if (r.status !== 0) throw new Error(`${args.join(" ")} in ${cwd} exited ${r.status}: ${r.stderr}`);
  return Number(process.hrtime.bigint() - t) / 1e6;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/**
 * `pnpm bench cli [--before <ref>]`: start-up of the CLI commands, each the median of 5 runs, in
 * turns with the floor (tsx running an empty file) and, with --before, the same command of that
 * commit, so that whatever else the machine does weighs on all alike.
 */
export function cliBench(before?: string): string {
  const floorFile = path.join(os.tmpdir(), "cronlayer-bench-empty.ts");
  writeFileSync(floorFile, "export {};\n");
  const old = before ? checkoutOf(before) : undefined;
  const rows: string[] = [];
  const floor: number[] = [];
  for (const [name, args] of COMMANDS) {
    const now: number[] = [];
    const then: number[] = [];
    for (let i = 0; i < 5; i++) {
      floor.push(timeOnce(ROOT, [floorFile]));
      now.push(timeOnce(ROOT, args));
      if (old) then.push(timeOnce(old.dir, args));
    }
    const n = median(now);
    rows.push(`| ${name} | ${old ? `${median(then).toFixed(0)} | ` : ""}${n.toFixed(0)} |${old ? ` ${(median(then) / n).toFixed(1)}x |` : ""}`);
  }
  const head = old ? `| command | before, ${old.sha} (ms) | now (ms) | before / now |\n|---|---:|---:|---:|` : "| command | now (ms) |\n|---|---:|";
  return [`\n## CLI start-up (median of 5; floor: tsx running an empty file, ${median(floor).toFixed(0)} ms)`, head, ...rows].join("\n");
}
