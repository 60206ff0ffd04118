import { bearerMatches } from "@/lib/auth/bearer";
import { json } from "@/lib/http/respond";

/**
 * The shop's own calls (its order-status route) carry `Authorization: Bearer <COMMERCE_API_KEY>`,
 * compared in constant time. Without the key (outside local mode) every call is refused with 503,
 * naming the variable; a missing or wrong key is a 401. Undefined: the request may pass.
 */
export function shopKeyRefusal(req: Request, apiKey: string | undefined): Response | undefined {
  if (!apiKey) return json(503, { error: "COMMERCE_API_KEY is not set: the shop's order-status calls are refused until it is (the shop sends it as Authorization: Bearer <COMMERCE_API_KEY>)" });
  if (!bearerMatches(req.headers.get("authorization"), apiKey)) return json(401, { error: "missing or wrong Authorization: Bearer <COMMERCE_API_KEY>" });
  return undefined;
}
