import { appDeps } from "@/config/app";
import { guardAction } from "@/lib/ops/guard";
import { signOut } from "@/lib/ops/login";

/** `POST /ops/logout`: a guarded action like the others (CSRF token), then the cookie is cleared. */
export async function POST(req: Request) {
  const { env } = await appDeps();
  const g = await guardAction(req, env);
  return g.ok ? signOut(env) : g.response;
}
