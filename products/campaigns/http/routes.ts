import type { ApiKey } from "@/lib/auth/api-key";
import { apiKeyRefusal } from "@/lib/http/bearer-guard";
import { describeError } from "@/lib/errors";
import { refuseMisconfigured } from "@/lib/http/misconfigured";
import { json } from "@/lib/http/respond";
import type { RunDeps } from "@/lib/jobs/run";
import { operatorClient } from "@/lib/qstash/client";
import { CAMPAIGNS_API, campaignsEnv } from "../env";
import type { MessageDeps } from "../lib/schedule";
import { BusinessHoursError } from "@/lib/time/business-hours";
import { CampaignId, CreateCampaign, parseInput, RescheduleRun, RunKey, ScheduleRuns } from "../lib/input";
import { cancelNode, CampaignNotFoundError, rescheduleNode, type When } from "../lib/schedule";
import { createCampaign, getCampaign, scheduleUsers, userStory } from "../lib/service";

type Params = Record<string, string>;
/** Next gives `params` only to a route with a dynamic segment: POST /api/campaigns gets none. */
type Ctx = { params?: Promise<Params> };
type Handler = (req: Request, ctx?: Ctx) => Promise<Response>;
type Deps = MessageDeps & { now: Date };

/**
 * The campaigns API (app/api/campaigns): JSON in and out, Bearer CAMPAIGNS_API_KEY (its callers
 * never hold CRON_SECRET, which can run every job). Bad input is a 400 naming the field (an unknown
 * zone names the zone); nothing is stored or scheduled for it.
 */
export function campaignRoutes(getDeps: () => Promise<RunDeps>) {
  const guarded =
    (fn: (req: Request, deps: Deps, params: Params) => Promise<Response>): Handler =>
    async (req, ctx) => {
      let run: RunDeps;
      let key: ApiKey;
      try {
        run = await getDeps();
        key = campaignsEnv.of(run.env).apiKey;
      } catch (err) {
        return refuseMisconfigured(err);
      }
      const refused = apiKeyRefusal(req, CAMPAIGNS_API, key, run.env.cronSecret, (problem) => run.log.error("campaigns.api_closed", { problem }));
      if (refused) return refused;
      const clock = run.clock ?? (() => new Date());
      const deps: Deps = { env: run.env, db: run.db, registry: run.registry, client: operatorClient(run.env), clock, now: clock() };
      const params: Params = (await ctx?.params) ?? {};
      const id = params.id === undefined ? undefined : parseInput(CampaignId, params.id);
      if (id && !id.ok) return json(400, { error: `id: "${params.id}" is not a campaign id (a UUID)`, field: "id" });
      try {
        return await fn(req, deps, params);
      } catch (err) {
        if (err instanceof BodyError) return json(400, { error: err.message, field: "body" });
        if (err instanceof CampaignNotFoundError) return json(404, { error: err.message });
        if (err instanceof BusinessHoursError) return json(400, { error: err.message, field: err.field });
        run.log.error("campaigns.request_failed", { path: new URL(req.url).pathname, error: describeError(err) });
        return json(500, { error: `the request failed: ${(err as Error).message}` });
      }
    };

  return {
    /** POST /api/campaigns */
    create: guarded(async (req, deps) => {
      const input = parseInput(CreateCampaign, await body(req));
      if (!input.ok) return json(400, input);
      return json(201, await createCampaign(deps, input.value, deps.now));
    }),
    /** GET /api/campaigns/<id>: the campaign, its nodes and its stats. */
    get: guarded(async (_req, deps, p) => {
      const c = await getCampaign(deps, p.id!);
      return c ? json(200, c) : json(404, { error: `id: no campaign ${p.id}`, field: "id" });
    }),
    /** POST /api/campaigns/<id>/runs { nodeId, users, at | businessHours, timeoutAt? } */
    schedule: guarded(async (req, deps, p) => {
      const input = parseInput(ScheduleRuns, await body(req));
      if (!input.ok) return json(400, input);
      const v = input.value;
      const planned = await scheduleUsers(deps, p.id!, v.nodeId, v.users, whenOf(v), { now: deps.now, timeoutAt: v.timeoutAt ? new Date(v.timeoutAt) : undefined });
      return json(202, { planned: planned.filter((x) => x.created).length, existing: planned.filter((x) => !x.created).length, runs: planned.map((x) => x.run) });
    }),
    /** PATCH /api/campaigns/<id>/runs { nodeId, productUserId, at | businessHours, timeoutAt? } */
    reschedule: guarded(async (req, deps, p) => {
      const input = parseInput(RescheduleRun, await body(req));
      if (!input.ok) return json(400, input);
      const v = input.value;
      const ids = { campaignId: p.id!, nodeId: v.nodeId, productUserId: v.productUserId, userId: "" };
      const res = await rescheduleNode(deps, ids, whenOf(v), { now: deps.now, timeoutAt: v.timeoutAt ? new Date(v.timeoutAt) : undefined });
      return res.changed ? json(200, res.run) : json(409, { error: `the node run is ${res.run.state}: only a PENDING run can be moved`, run: res.run });
    }),
    /** DELETE /api/campaigns/<id>/runs?nodeId=&productUserId= */
    cancel: guarded(async (req, deps, p) => {
      const q = new URL(req.url).searchParams;
      const input = parseInput(RunKey, { nodeId: q.get("nodeId") ?? undefined, productUserId: q.get("productUserId") ?? undefined });
      if (!input.ok) return json(400, input);
      const res = await cancelNode(deps, { campaignId: p.id!, userId: "", ...input.value }, deps.now);
      return res.changed ? json(200, res.run) : json(409, { error: `the node run is ${res.run.state}: only a PENDING run can be cancelled`, run: res.run });
    }),
    /** GET /api/campaigns/<id>/users/<productUserId>: the user's runs and every transition. */
    story: guarded(async (_req, deps, p) => json(200, await userStory(deps, p.id!, p.productUserId!))),
  };
}

function whenOf(v: { at?: string; businessHours?: true }): When {
  return v.at ? { at: new Date(v.at) } : { businessHours: true };
}

async function body(req: Request): Promise<unknown> {
  const text = await req.text();
  if (!text.trim()) return {};
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new BodyError(`body: not JSON (${(err as Error).message})`);
  }
}

class BodyError extends Error {
  override name = "BodyError";
}
