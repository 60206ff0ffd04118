import type { z } from "zod";
import { refuseMisconfigured } from "@/lib/http/misconfigured";
import { json } from "@/lib/http/respond";
import type { RunDeps } from "@/lib/jobs/run";

/** How one vendor signs its webhook: the secret, the header and the check over the raw body. */
export interface WebhookSigning {
  /** The log events' prefix, e.g. `commerce.webhook`. */
  log: string;
  /** The secret's variable, e.g. RAZORPAY_WEBHOOK_SECRET. */
  variable: string;
  secret: (deps: RunDeps) => string | undefined;
  /** What the 503 says about the secret: what refuses and where the secret comes from. */
  unconfigured: string;
  header: string;
  /** What the 401 says, e.g. how the signature is made. */
  rejected: string;
  verify: (raw: string, signature: string | null, secret: string) => boolean;
}

/**
 * A vendor's event, read as every webhook of the shop reads it: the secret must be set (503
 * otherwise: nothing can be checked), the signature over the raw body is checked before anything is
 * parsed (401), then the body must be JSON of the event's shape (400). Either the parsed event, or
 * the answer to give.
 */
export async function readSignedEvent<S extends z.ZodType>(
  req: Request,
  getDeps: () => Promise<RunDeps>,
  signing: WebhookSigning,
  schema: S,
): Promise<{ deps: RunDeps; event: z.infer<S> } | Response> {
  let deps: RunDeps;
  try {
    deps = await getDeps();
  } catch (err) {
    return refuseMisconfigured(err);
  }
  const secret = signing.secret(deps);
  if (!secret) {
    deps.log.error(`${signing.log}.unconfigured`, { hint: `set ${signing.variable}` });
    return json(503, { error: `${signing.variable} is not set: ${signing.unconfigured}` });
  }
  const raw = await req.text();
  if (!signing.verify(raw, req.headers.get(signing.header), secret)) {
    deps.log.warn(`${signing.log}.rejected`, { reason: `invalid ${signing.header}` });
    return json(401, { error: signing.rejected });
  }
  let body: unknown;
  try {
    body = JSON.parse(raw);
  } catch {
    return json(400, { error: "the body is not JSON" });
  }
  const parsed = schema.safeParse(body);
  if (!parsed.success) return json(400, { error: `invalid event: ${parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ")}` });
  return { deps, event: parsed.data };
}
