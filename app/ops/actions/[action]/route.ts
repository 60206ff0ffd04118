import { appDeps } from "@/config/app";
import { ACTIONS, performAction, type Action } from "@/lib/ops/actions";
import { recordAction } from "@/lib/ops/audit";
import { guardAction, seeOther } from "@/lib/ops/guard";
import { operatorClient } from "@/lib/qstash/client";

/** `POST /ops/actions/<action>`: run now, pause, resume, replay, delete (one or a job's all). */
export async function POST(req: Request, { params }: { params: Promise<{ action: string }> }) {
  const { action } = await params;
  const deps = await appDeps();
  const g = await guardAction(req, deps.env);
  if (!g.ok) return g.response;
  if (!(ACTIONS as readonly string[]).includes(action)) return new Response(JSON.stringify({ error: `unknown action ${action}` }), { status: 404 });
  const r = await performAction(action as Action, g.form, deps, operatorClient(deps.env), g.session.operator);
  // Every action, whatever its outcome, with who did it (lib/ops/audit.ts).
  await recordAction(deps, g.session.operator, action, g.form, r);
  return seeOther(r.location);
}
export const maxDuration = 300; // seconds: "Run now" runs the job here, up to its timeout
