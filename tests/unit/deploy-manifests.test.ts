import { existsSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { Cron } from "croner";
import { parse as parseToml } from "smol-toml";
import { describe, expect, it } from "vitest";
import { parseAllDocuments } from "yaml";
import { z } from "zod";
import { catalog, enabledProducts } from "../../config/products";
import { RUNNER_DIR, RUNNER_FILE } from "../../lib/build/runner-bundle";
import { timeoutOf } from "../../lib/cli/in-process";
import { isZone } from "../../lib/env";

/**
 * deploy/ checked without Docker, flyctl or a cluster: each file through a real parser (YAML, TOML,
 * Dockerfile instructions), the fields the runner relies on through strict schemas (a misspelt
 * field is an error, not an ignored key), and cross-checked against the code: the jobs exist, the
 * schedules are the products' own, the image's paths are the bundle's.
 */
const root = resolve(__dirname, "../..");
const read = (path: string) => readFileSync(join(root, path), "utf8");
const jobs = new Set(catalog.flatMap((p) => p.jobs.map((j) => j.name)));
const crons = new Map(catalog.flatMap((p) => p.schedules.map((s) => [s.job, s.cron] as const)));

const envVar = z.strictObject({ name: z.string().regex(/^[A-Z][A-Z0-9_]*$/), value: z.string() });
const container = z.strictObject({
  name: z.string(),
  image: z.string().min(1),
  args: z.array(z.string()).min(1),
  envFrom: z.array(z.strictObject({ secretRef: z.strictObject({ name: z.string() }) })).length(1),
  env: z.array(envVar),
  resources: z.strictObject({ requests: z.record(z.string(), z.string()), limits: z.record(z.string(), z.string()) }),
  securityContext: z.strictObject({ runAsNonRoot: z.literal(true), allowPrivilegeEscalation: z.literal(false), readOnlyRootFilesystem: z.boolean() }),
});
const cronJob = z.strictObject({
  apiVersion: z.literal("batch/v1"),
  kind: z.literal("CronJob"),
  metadata: z.strictObject({ name: z.string().regex(/^[a-z0-9-]{1,52}$/), labels: z.record(z.string(), z.string()) }),
  spec: z.strictObject({
    schedule: z.string(),
    timeZone: z.string().refine(isZone, "an IANA zone"),
    concurrencyPolicy: z.enum(["Allow", "Forbid", "Replace"]),
    startingDeadlineSeconds: z.number().int().positive(),
    successfulJobsHistoryLimit: z.number().int().min(0),
    failedJobsHistoryLimit: z.number().int().min(0),
    jobTemplate: z.strictObject({
      spec: z.strictObject({
        backoffLimit: z.number().int().min(0),
        activeDeadlineSeconds: z.number().int().positive(),
        template: z.strictObject({ spec: z.strictObject({ restartPolicy: z.enum(["Never", "OnFailure"]), containers: z.array(container).length(1) }) }),
      }),
    }),
  }),
});

/** A Dockerfile's instructions: continuation lines joined, comments and blank lines dropped. */
function instructions(text: string): { op: string; args: string }[] {
  return text
    .replace(/\\\n/g, " ")
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith("#"))
    .map((l) => {
      const [op, ...rest] = l.split(/\s+/);
      return { op: op!.toUpperCase(), args: rest.join(" ") };
    });
}

describe("deploy/k8s/cronjob.yaml", () => {
  // Strict YAML 1.2: a duplicated key or a syntax error is an error, not the last value silently.
  const docs = parseAllDocuments(read("deploy/k8s/cronjob.yaml"), { uniqueKeys: true }).map((d) => {
    expect(d.errors).toEqual([]);
    return cronJob.parse(d.toJS());
  });

  it("is one CronJob per scheduled engagement job, on the product's own schedule (UTC)", () => {
    expect(docs.map((d) => d.metadata.name).sort()).toEqual(["plan-founder-emails", "plan-practice-reminders"]);
    for (const d of docs) {
      expect(d.spec.schedule).toBe(crons.get(d.metadata.name));
      expect(d.spec.timeZone).toBe("Etc/UTC");
      expect(() => new Cron(d.spec.schedule, { mode: "5-part", paused: true })).not.toThrow();
    }
  });

  it("runs the job it is named for in this process (inline, production), within the Pod's deadline", () => {
    for (const d of docs) {
      const job = d.spec.jobTemplate.spec;
      const c = job.template.spec.containers[0]!;
      expect(c.args[0]).toBe(d.metadata.name);
      expect(jobs.has(c.args[0]!)).toBe(true);
      const env = Object.fromEntries(c.env.map((e) => [e.name, e.value]));
      expect(env).toMatchObject({ APP_ENV: "production", CRONLAYER_FANOUT: "inline" });
      expect(enabledProducts({ PRODUCTS: env.PRODUCTS }).map((p) => p.name)).toEqual(["engagement"]);
      // The run ends (and records why) before Kubernetes kills the Pod.
      const timeout = timeoutOf(c.args[c.args.indexOf("--timeout") + 1]);
      expect(timeout).toBeLessThan(job.activeDeadlineSeconds * 1000);
      // Never: a failed Pod is a new Pod (backoffLimit), and its exit code stays visible.
      expect(job.template.spec.restartPolicy).toBe("Never");
      expect(d.spec.concurrencyPolicy).toBe("Forbid");
    }
  });
});

describe("deploy/runner/Dockerfile", () => {
  const steps = instructions(read("deploy/runner/Dockerfile"));
  const stages = steps.reduce<{ op: string; args: string }[][]>((acc, s) => (s.op === "FROM" ? [...acc, [s]] : (acc.at(-1)!.push(s), acc)), []);
  const final = stages.at(-1)!;
  const pkg = JSON.parse(read("package.json")) as { scripts: Record<string, string>; engines: { node: string } };

  it("builds the bundle with the repository's script, on the Node the project supports", () => {
    expect(stages).toHaveLength(2);
    const major = /(\d+)/.exec(pkg.engines.node)![1];
    for (const s of stages) expect(s[0]!.args).toMatch(new RegExp(`^node:${major}(-|\\b)`));
    expect(stages[0]!.filter((s) => s.op === "RUN").map((s) => s.args)).toEqual(["corepack enable", "pnpm install --frozen-lockfile", "pnpm build:runner"]);
    expect(pkg.scripts["build:runner"]).toBe("tsx scripts/build-runner.ts");
  });

  it("ships only the bundle, runs it with node as a numeric non-root user, inline by default", () => {
    const copies = final.filter((s) => s.op === "COPY").map((s) => s.args);
    expect(copies).toEqual([`--from=build /src/${RUNNER_DIR}/${RUNNER_FILE} /app/${RUNNER_FILE}`]);
    expect(JSON.parse(final.find((s) => s.op === "ENTRYPOINT")!.args)).toEqual(["node", `/app/${RUNNER_FILE}`]);
    expect(final.find((s) => s.op === "USER")!.args).toMatch(/^\d+(:\d+)?$/);
    expect(final.find((s) => s.op === "ENV")!.args.split(/\s+/)).toEqual(expect.arrayContaining(["NODE_ENV=production", "CRONLAYER_FANOUT=inline"]));
    expect(read(".dockerignore").split("\n")).toContain("node_modules");
  });
});

describe("deploy/fly/fly.toml", () => {
  const fly = z
    .strictObject({
      app: z.string().regex(/^[a-z0-9-]+$/),
      primary_region: z.string().length(3),
      build: z.strictObject({ dockerfile: z.string() }),
      env: z.record(z.string(), z.string()),
      vm: z.array(z.strictObject({ cpu_kind: z.enum(["shared", "performance"]), cpus: z.number().int().positive(), memory: z.string().regex(/^\d+(mb|gb)$/) })).length(1),
    })
    .parse(parseToml(read("deploy/fly/fly.toml")));

  it("builds the runner image and serves nothing (no http_service: scheduled Machines only)", () => {
    expect(resolve(root, dirname("deploy/fly/fly.toml"), fly.build.dockerfile)).toBe(join(root, "deploy/runner/Dockerfile"));
    expect(existsSync(join(root, "deploy/runner/Dockerfile"))).toBe(true);
  });

  it("sets the runner's env: production, inline fan-out, the engagement product", () => {
    expect(fly.env).toMatchObject({ APP_ENV: "production", CRONLAYER_FANOUT: "inline" });
    expect(enabledProducts({ PRODUCTS: fly.env.PRODUCTS }).map((p) => p.name)).toEqual(["engagement"]);
  });
});
