import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { buildRunner, RUNNER_FILE } from "../lib/build/runner-bundle";

const ROOT = fileURLToPath(new URL("../", import.meta.url));

/** What a container pays at each start: the same command, bundled (node) and from the sources (tsx). */
const COMMANDS: [string, string[]][] = [
  ["job:run --help", ["--help"]],
  ["job:run heartbeat --dry-run", ["heartbeat", "--dry-run"]],
  ["job:run plan-founder-emails --in-process --dry-run", ["plan-founder-emails", "--in-process", "--dry-run"]],
];

const ENV: NodeJS.ProcessEnv = { NODE_ENV: "production", PATH: process.env.PATH, APP_ENV: "test", DATABASE_URL: "postgres://postgres@127.0.0.1:5432/postgres", LOG_LEVEL: "silent" };

function timeOnce(cmd: string, args: string[], cwd: string): number {
  const t = process.hrtime.bigint();
  const r = spawnSync(cmd, args, { cwd, encoding: "utf8", env: ENV });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(" ")} exited ${r.status}: ${r.stderr}`);
  return Number(process.hrtime.bigint() - t) / 1e6;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/**
 * `pnpm bench runner`: the bundle's build (time, size), then each command's start-up, median of 5,
 * in turns: node on the bundle in a folder of its own, tsx on the sources, and node on an empty file
 * (the floor), so whatever else the machine does weighs on all alike.
 */
export async function runnerBench(): Promise<string> {
  const dir = mkdtempSync(path.join(os.tmpdir(), "cronlayer-bench-runner-"));
  try {
    const t = process.hrtime.bigint();
    const built = await buildRunner({ root: ROOT, outDir: dir });
    const buildMs = Number(process.hrtime.bigint() - t) / 1e6;
    const empty = path.join(dir, "empty.mjs");
    writeFileSync(empty, "");
    const tsx = path.join(ROOT, "node_modules/.bin/tsx");
    const floor: number[] = [];
    const rows: string[] = [];
    for (const [name, args] of COMMANDS) {
      const bundled: number[] = [];
      const sources: number[] = [];
      for (let i = 0; i < 5; i++) {
        floor.push(timeOnce(process.execPath, [empty], dir));
        bundled.push(timeOnce(process.execPath, [RUNNER_FILE, ...args], dir));
        sources.push(timeOnce(tsx, ["scripts/job-run.ts", ...args], ROOT));
      }
      rows.push(`| ${name} | ${median(sources).toFixed(0)} | ${median(bundled).toFixed(0)} | ${(median(sources) / median(bundled)).toFixed(1)}x |`);
    }
    return [
      `\n## The bundled runner: build and start-up (median of 5; floor: node on an empty file, ${median(floor).toFixed(0)} ms)`,
      `Bundle: ${(built.bytes / 1e6).toFixed(1)} MB, built in ${(buildMs / 1000).toFixed(1)} s.`,
      "| command | tsx, sources (ms) | node, bundle (ms) | sources / bundle |\n|---|---:|---:|---:|",
      ...rows,
    ].join("\n");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
