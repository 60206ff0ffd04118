import { bearerMatches } from "../auth/bearer";
import { json } from "./respond";

/**
 * The 401 of an API that takes `Authorization: Bearer <CRON_SECRET>`, or undefined when the request
 * may pass. An unset secret refuses everyone and says so.
 */
export function bearerRefusal(req: Request, cronSecret: string | undefined): Response | undefined {
  if (!cronSecret) return json(401, { error: "Bearer authentication is disabled: CRON_SECRET is not set" });
  if (!bearerMatches(req.headers.get("authorization"), cronSecret)) return json(401, { error: "missing or wrong Authorization: Bearer <CRON_SECRET>" });
  return undefined;
}
