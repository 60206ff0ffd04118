import type { ApiKey } from "@/lib/auth/api-key";
import { apiKeyRefusal } from "@/lib/http/bearer-guard";
import { describeError } from "@/lib/errors";
import { refuseMisconfigured } from "@/lib/http/misconfigured";
import { json } from "@/lib/http/respond";
import { FORMS_API, formsEnv } from "../env";
import { CreateFormInput, deadlineProblem, FormId, MoveDeadlineInput, parseInput } from "../lib/input";
import { createForm, getForm, moveDeadline, submitForm, type FormDeps, type Outcome } from "../lib/service";

type Ctx = { params: Promise<{ id: string }> };
type Handler = (req: Request, ctx?: Ctx) => Promise<Response>;

/**
 * The forms API (app/api/forms): JSON in and out, Bearer FORMS_API_KEY (the clinic's app never holds
 * CRON_SECRET, which can run every job). Bad input is a 400 that names the field, and nothing is
 * stored or scheduled for it.
 */
export function formsRoutes(getDeps: () => Promise<FormDeps>) {
  const guarded =
    (fn: (req: Request, deps: FormDeps, id: string) => Promise<Response>): Handler =>
    async (req, ctx) => {
      let deps: FormDeps;
      let key: ApiKey;
      try {
        deps = await getDeps();
        key = formsEnv.of(deps.env).apiKey;
      } catch (err) {
        return refuseMisconfigured(err);
      }
      const refused = apiKeyRefusal(req, FORMS_API, key, deps.env.cronSecret, (problem) => deps.log.error("forms.api_closed", { problem }));
      if (refused) return refused;
      try {
        return await fn(req, deps, ctx ? (await ctx.params).id : "");
      } catch (err) {
        deps.log.error("forms.request_failed", { path: new URL(req.url).pathname, error: describeError(err) });
        return json(500, { error: `the request failed: ${(err as Error).message}` });
      }
    };
  const now = (deps: FormDeps) => (deps.clock ?? (() => new Date()))();

  return {
    /** POST /api/forms */
    create: only(guarded(async (req, deps) => {
      const body = await bodyOf(req);
      if (!body.ok) return json(400, body.body);
      const input = parseInput(CreateFormInput, body.value);
      if (!input.ok) return json(400, without(input));
      const at = now(deps);
      const late = deadlineProblem(new Date(input.value.deadline), at);
      if (late) return json(400, late);
      return answer(await createForm(deps, input.value, at), 201);
    })),
    /** GET /api/forms/<id> */
    get: guarded(async (_req, deps, raw) => {
      const id = parseInput(FormId, raw);
      if (!id.ok) return json(400, idError());
      const form = await getForm(deps, id.value);
      return form ? json(200, form) : json(404, { error: `id: no form ${id.value}`, field: "id" });
    }),
    /** PATCH /api/forms/<id> { deadline } */
    move: guarded(async (req, deps, raw) => {
      const id = parseInput(FormId, raw);
      if (!id.ok) return json(400, idError());
      const body = await bodyOf(req);
      if (!body.ok) return json(400, body.body);
      const input = parseInput(MoveDeadlineInput, body.value);
      if (!input.ok) return json(400, without(input));
      const at = now(deps);
      const deadline = new Date(input.value.deadline);
      const late = deadlineProblem(deadline, at);
      if (late) return json(400, late);
      return answer(await moveDeadline(deps, id.value, deadline, at));
    }),
    /** POST /api/forms/<id>/submit */
    submit: guarded(async (_req, deps, raw) => {
      const id = parseInput(FormId, raw);
      if (!id.ok) return json(400, idError());
      return answer(await submitForm(deps, id.value, now(deps)));
    }),
  };
}

/** A route without a dynamic segment gets no id. */
const only = (h: Handler) => (req: Request) => h(req);

function answer<T>(o: Outcome<T>, status = 200): Response {
  if (o.ok) return json(status, o.value);
  return json(o.status, o.status === 404 ? { error: o.error, field: "id" } : { error: o.error });
}

const idError = () => ({ error: "id: must be a form id (a UUID)", field: "id", issues: [{ field: "id", message: "must be a form id (a UUID)" }] });
const without = (r: { error: string; field: string; issues: unknown[] }) => ({ error: r.error, field: r.field, issues: r.issues });

async function bodyOf(req: Request): Promise<{ ok: true; value: unknown } | { ok: false; body: { error: string; field: string } }> {
  const text = await req.text();
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch (err) {
    return { ok: false, body: { error: `the body must be JSON: ${(err as Error).message}`, field: "(body)" } };
  }
}
