import { appDeps } from "@/config/app";
import { cookieSpec, cookieValue, readSession } from "@/lib/ops/session";

export const dynamic = "force-dynamic";

const json = (status: number, body: unknown) => new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json", "cache-control": "no-store" } });

/**
 * `GET /ops/live`: the ledger's version for the console's live refresh (app/ops/_ui/live.tsx). It
 * changes when a run starts or ends. Signed in only, like every console page.
 */
export async function GET(req: Request) {
  const deps = await appDeps();
  const session = readSession(cookieValue(req.headers.get("cookie"), cookieSpec(deps.env).name), deps.env.ops.password, Date.now());
  if (!session) return json(401, { error: "not signed in: sign in at /ops/login" });
  const v = await deps.db.rpc<{ running: number; latest: string | null }>("ops_live");
  return json(200, { version: `${v.running}:${v.latest ?? "-"}`, running: v.running });
}
