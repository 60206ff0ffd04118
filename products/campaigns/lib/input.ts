import { z } from "zod";
import { businessHoursProblem, DEFAULT_BUSINESS_HOURS, isValidZone } from "@/lib/time/business-hours";
import { NODE_ID, PRODUCT_USER_ID } from "./types";

const zone = z.string().refine(isValidZone, { error: (i) => `unknown time zone "${String(i.input)}" (use an IANA name such as Europe/Lisbon)` });
const nodeId = z.string().regex(NODE_ID, "letters, digits and _ only, at most 64");
const instant = z.iso.datetime({ offset: true, error: "an ISO 8601 date-time with a zone, e.g. 2027-01-11T09:00:00Z" });

const common = { id: nodeId, timing: z.enum(["business_hours", "immediate"]).optional(), timeoutSeconds: z.int().min(1).max(365 * 86_400).optional() };
const Node = z.discriminatedUnion("type", [
  z.object({ ...common, type: z.literal("email"), config: z.object({ subject: z.string().min(1).max(300), text: z.string().min(1).max(50_000) }), next: nodeId.optional() }),
  z.object({ ...common, type: z.literal("notification"), config: z.object({ workflowId: z.string().min(1).max(200), payload: z.record(z.string(), z.unknown()).optional() }), next: nodeId.optional() }),
  z.object({ ...common, type: z.literal("wait"), config: z.object({ seconds: z.int().min(0).max(365 * 86_400) }), next: nodeId.optional() }),
  z.object({
    ...common,
    type: z.literal("branch"),
    config: z.object({ attribute: z.string().min(1).max(100), equals: z.union([z.string(), z.number(), z.boolean()]), then: nodeId.nullable(), else: nodeId.nullable() }),
  }),
]);

const Hours = z.object({ start: z.string(), end: z.string(), days: z.array(z.int()) });

export const CreateCampaign = z
  .object({
    name: z.string().trim().min(1).max(200),
    zone: zone.default("UTC"),
    hours: Hours.default(DEFAULT_BUSINESS_HOURS),
    nodes: z.array(Node).min(1).max(100),
  })
  .superRefine((c, ctx) => {
    const problem = businessHoursProblem({ zone: c.zone, ...c.hours });
    if (problem && problem.field !== "zone") ctx.addIssue({ code: "custom", path: ["hours", problem.field], message: problem.message.replace(/^\w+: /, "") });
    const ids = new Set<string>();
    c.nodes.forEach((n, i) => {
      if (ids.has(n.id)) ctx.addIssue({ code: "custom", path: ["nodes", i, "id"], message: `"${n.id}" is used twice` });
      ids.add(n.id);
    });
    c.nodes.forEach((n, i) => {
      const refs: [string, string | null | undefined][] = n.type === "branch" ? [["config.then", n.config.then], ["config.else", n.config.else]] : [["next", n.next]];
      for (const [field, ref] of refs) {
        if (ref && !ids.has(ref)) ctx.addIssue({ code: "custom", path: ["nodes", i, ...field.split(".")], message: `no node "${ref}" in this campaign` });
      }
    });
  });
export type CreateCampaign = z.output<typeof CreateCampaign>;

export const CampaignUser = z.object({
  userId: z.string().min(1).max(128),
  productUserId: z.string().regex(PRODUCT_USER_ID, "letters, digits and _ . @ + - only, at most 128"),
  email: z.email().optional(),
  name: z.string().max(200).optional(),
  zone: zone.optional(),
  attributes: z.record(z.string(), z.unknown()).optional(),
});

const when = { at: instant.optional(), businessHours: z.literal(true).optional(), timeoutAt: instant.optional() };
const oneWhen = (w: { at?: string; businessHours?: true }, ctx: z.RefinementCtx) => {
  if (Boolean(w.at) === Boolean(w.businessHours)) ctx.addIssue({ code: "custom", path: ["at"], message: "give either at (an instant) or businessHours: true" });
};

export const ScheduleRuns = z.object({ nodeId, users: z.array(CampaignUser).min(1).max(500), ...when }).superRefine(oneWhen);
export const RescheduleRun = z.object({ nodeId, productUserId: CampaignUser.shape.productUserId, ...when }).superRefine(oneWhen);
export const RunKey = z.object({ nodeId, productUserId: CampaignUser.shape.productUserId });
export const CampaignId = z.uuid();

/** The first problem of an input, as `field: message`, and every problem by field. */
export function parseInput<S extends z.ZodType>(schema: S, data: unknown): { ok: true; value: z.output<S> } | { ok: false; error: string; field: string; issues: { field: string; message: string }[] } {
  const r = schema.safeParse(data);
  if (r.success) return { ok: true, value: r.data };
  const issues = r.error.issues.map((i) => ({ field: i.path.join(".") || "(body)", message: i.message }));
  return { ok: false, error: `${issues[0]!.field}: ${issues[0]!.message}`, field: issues[0]!.field, issues };
}
