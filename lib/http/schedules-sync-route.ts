import type { Client } from "@upstash/qstash";
import { z } from "zod";
import { bearerRefusal } from "./bearer-guard";
import { scheduleCommand } from "../cli/commands/schedule";
import { createCliContext } from "../cli/context";
import { EXIT } from "../cli/errors";
import { memoryIo } from "../cli/io";
import { describeError } from "../errors";
import type { RunDeps } from "../jobs/run";
import { refuseMisconfigured } from "./misconfigured";
import { json } from "./respond";

const Options = z.object({
  dryRun: z.boolean().optional(),
  check: z.boolean().optional(),
  plan: z.enum(["free", "payg", "none"]).optional(),
});

/**
 * `POST /api/schedules/sync`: `pnpm qstash:schedule --json` behind Bearer CRON_SECRET, for a
 * post-deploy hook. It runs the command itself (plan, refusals, plan-limit warnings, apply,
 * verify), so the endpoint refuses exactly what the CLI refuses and answers the CLI's JSON, with
 * the warnings it printed. Body (optional): { dryRun?, check?, plan? } as the CLI's flags.
 */
export function schedulesSyncRoute(getDeps: () => Promise<Pick<RunDeps, "env" | "registry" | "log">>, opts: { qstash?: () => Client } = {}) {
  async function POST(req: Request): Promise<Response> {
    let deps: Pick<RunDeps, "env" | "registry" | "log">;
    try {
      deps = await getDeps();
    } catch (err) {
      return refuseMisconfigured(err);
    }
    const refused = bearerRefusal(req, deps.env.cronSecret);
    if (refused) return refused;
    const text = await req.text();
    let options: z.output<typeof Options>;
    try {
      options = Options.parse(text.trim() ? JSON.parse(text) : {});
    } catch (err) {
      const issues = err instanceof z.ZodError ? err.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ") : `the body is not JSON (${(err as Error).message})`;
      return json(400, { error: `invalid options: ${issues}; expected { dryRun?: boolean, check?: boolean, plan?: "free" | "payg" | "none" }` });
    }
    const io = memoryIo();
    const ctx = createCliContext({ env: deps.env, registry: deps.registry, io, qstash: opts.qstash?.() });
    let code: number;
    try {
      code = await scheduleCommand(ctx, { ...options, json: true });
    } catch (err) {
      deps.log.error("schedules.sync.failed", { error: describeError(err) });
      return json(500, { error: `the sync failed: ${(err as Error).message}` });
    } finally {
      await ctx.close();
    }
    const out = JSON.parse(io.stdout() || "{}") as { status?: string };
    const notes = io.stderr().split("\n").filter(Boolean);
    deps.log.info("schedules.sync", { status: out.status, code });
    // 409: refused, nothing sent. 502: QStash failed us. 200: applied, in sync, or pending (a dry run or --check).
    const status = code === EXIT.ok || (options.check && code === EXIT.changes) ? 200 : out.status === "refused" ? 409 : 502;
    return json(status, { ...out, notes });
  }
  return { POST };
}
