import { appDeps } from "@/config/app";
import { signIn } from "@/lib/ops/login";

/** `POST /ops/session`: sign in (password form, rate-limited). */
export async function POST(req: Request) {
  const deps = await appDeps();
  return signIn(req, deps);
}
