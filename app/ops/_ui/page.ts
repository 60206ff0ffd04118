import { cookies } from "next/headers";
import { redirect } from "next/navigation";
import { appDeps } from "@/config/app";
import type { RunDeps } from "@/lib/jobs/run";
import { operatorClient } from "@/lib/qstash/client";
import { cookieSpec, readSession, type Session } from "@/lib/ops/session";

/**
 * What every console page starts with: the deps, and the session or a redirect to the sign-in.
 * Checked per page, not in the layout: a layout is not rendered again on every navigation.
 */
export async function signedIn(path: string): Promise<{ deps: RunDeps; session: Session; client: ReturnType<typeof operatorClient> }> {
  const deps = await appDeps();
  const jar = await cookies();
  const session = readSession(jar.get(cookieSpec(deps.env).name)?.value, deps.env.ops.password, Date.now());
  if (!session) redirect(`/ops/login?next=${encodeURIComponent(path)}`);
  return { deps, session, client: operatorClient(deps.env) };
}

export type SearchParams = Promise<Record<string, string | string[] | undefined>>;
export const one = (v: string | string[] | undefined) => (Array.isArray(v) ? v[0] : v);
