import type { ApiKey, ApiKeySpec } from "../auth/api-key";
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

/**
 * The refusal of a product API that takes its own key (lib/auth/api-key.ts), or undefined when the
 * request may pass. Without a usable key it is closed (503, naming the variable; `closed` gets the
 * problem for the server log). CRON_SECRET is refused by name, so a caller still sending it learns
 * what to send instead; a key equal to CRON_SECRET would let it in, so that closes the API too.
 */
export function apiKeyRefusal(req: Request, spec: ApiKeySpec, key: ApiKey, cronSecret: string | undefined, closed: (problem: string) => void): Response | undefined {
  const close = (problem: string) => {
    closed(problem);
    return json(503, { error: `${spec.api} is closed: ${problem}` });
  };
  if (!key.ok) return close(key.problem);
  if (key.key === cronSecret) return close(`${spec.variable} equals CRON_SECRET: give ${spec.api} a key of its own (openssl rand -hex 32), so that its callers cannot run jobs`);
  const header = req.headers.get("authorization");
  if (bearerMatches(header, key.key)) return undefined;
  if (bearerMatches(header, cronSecret)) return json(401, { error: `${spec.api} does not take CRON_SECRET (it can run every job): send Authorization: Bearer <${spec.variable}>` });
  return json(401, { error: `missing or wrong Authorization: Bearer <${spec.variable}>` });
}
