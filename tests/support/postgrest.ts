import http from "node:http";
import type { AddressInfo } from "node:net";
import postgres from "postgres";

/**
 * A stand-in for Supabase's Data API (PostgREST) that serves only what supabase-js `rpc` sends:
 * `POST /rest/v1/rpc/<fn>` with a JSON object of named arguments. It runs the function on the real
 * test database, so the Supabase adapter is tested against real SQL results and real SQL errors,
 * not against canned answers. It does not switch roles or apply RLS: it only serves the service role.
 */
export interface TestPostgrest {
  url: string;
  serviceRoleKey: string;
  /** Every request as it arrived, so tests can pin what supabase-js really sends. */
  requests: SeenRequest[];
  close(): Promise<void>;
}

export interface SeenRequest {
  method: string;
  path: string;
  headers: http.IncomingHttpHeaders;
  body: string;
}

interface Reply {
  status: number;
  body: unknown;
}

interface Signature {
  names: string[];
  types: string[];
  required: number;
  returns: string;
  retset: boolean;
}

export async function startPostgrest(databaseUrl: string, serviceRoleKey = "test-service-role-key"): Promise<TestPostgrest> {
  const sql = postgres(databaseUrl, { max: 4, prepare: false, onnotice: () => {} });
  const requests: SeenRequest[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const seen = { method: req.method ?? "", path: req.url ?? "", headers: req.headers, body: Buffer.concat(chunks).toString("utf8") };
      requests.push(seen);
      handle(sql, serviceRoleKey, seen)
        .catch((err: unknown): Reply => ({ status: 500, body: pgrstError("PGRST000", (err as Error).message) }))
        .then(({ status, body }) => {
          res.writeHead(status, { "content-type": "application/json; charset=utf-8" });
          res.end(typeof body === "string" ? body : JSON.stringify(body));
        });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    serviceRoleKey,
    requests,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await sql.end({ timeout: 5 });
    },
  };
}

async function handle(sql: postgres.Sql, key: string, req: SeenRequest): Promise<Reply> {
  // What the Supabase API gateway answers before PostgREST ever sees the request.
  const apikey = req.headers.apikey;
  if (!apikey) return { status: 401, body: { message: "No API key found in request", hint: "No `apikey` request header or url param was found." } };
  if (apikey !== key || req.headers.authorization !== `Bearer ${key}`) {
    return { status: 401, body: { message: "Invalid API key", hint: "Double check your Supabase `anon` or `service_role` API key." } };
  }

  const m = /^\/rest\/v1\/rpc\/([^/?]+)$/.exec(req.path);
  if (!m) return { status: 404, body: pgrstError("PGRST125", `Invalid path specified in request URL: ${req.path}`) };
  if (req.method !== "POST") return { status: 405, body: pgrstError("PGRST117", `Unsupported HTTP method: ${req.method}`) };
  const profile = req.headers["content-profile"];
  if (profile !== undefined && profile !== "public") {
    return { status: 406, body: pgrstError("PGRST106", `Invalid schema: ${String(profile)}`, null, "Only the following schemas are exposed: public") };
  }

  let args: unknown;
  try {
    args = req.body === "" ? {} : JSON.parse(req.body);
  } catch {
    return { status: 400, body: pgrstError("PGRST102", "Empty or invalid json") };
  }
  if (args === null || typeof args !== "object" || Array.isArray(args)) return { status: 400, body: pgrstError("PGRST102", "Empty or invalid json") };

  const fn = decodeURIComponent(m[1]!);
  const given = args as Record<string, unknown>;
  const sig = await resolve(sql, fn, Object.keys(given));
  if (!sig) return { status: 404, body: notFound(fn, Object.keys(given)) };
  if (sig.retset || sig.returns === "void") {
    return { status: 501, body: pgrstError("PGRST000", `the test PostgREST serves single-value functions only; ${fn} returns ${sig.retset ? "a set" : "void"}`) };
  }

  // Named-argument call; every value goes in as text (jsonb as its JSON text) and the server casts it to the
  // declared type, as PostgREST does. `::text` first, or postgres.js would JSON-encode the JSON text again.
  const keys = Object.keys(given);
  const call = keys.map((k, i) => `${ident(k)} => $${i + 1}::text::${sig.types[sig.names.indexOf(k)]}`).join(", ");
  const params = keys.map((k) => toText(given[k], sig.types[sig.names.indexOf(k)]!));
  try {
    const rows = await sql.unsafe<{ result: string | null }[]>(`select to_jsonb(public.${ident(fn)}(${call}))::text as result`, params);
    return { status: 200, body: rows[0]?.result ?? "null" };
  } catch (err) {
    // Only errors the server raised carry a SQLSTATE; anything else is the stand-in's own failure (500).
    if (!(err instanceof postgres.PostgresError)) throw err;
    return { status: statusFor(err.code), body: { code: err.code, message: err.message, details: err.detail ?? null, hint: err.hint ?? null } };
  }
}

/** PostgREST picks the overload whose parameters cover every given name and miss no required one. */
async function resolve(sql: postgres.Sql, fn: string, given: string[]): Promise<Signature | undefined> {
  const rows = await sql<{ names: string[]; modes: string[]; types: string[]; defaults: number; returns: string; retset: boolean }[]>`
    select coalesce(p.proargnames, '{}') as names,
           coalesce(p.proargmodes::text[], '{}') as modes,
           array(select format_type(t, null) from unnest(coalesce(p.proallargtypes, p.proargtypes::oid[])) with ordinality u(t, i) order by i) as types,
           p.pronargdefaults::int as defaults,
           format_type(p.prorettype, null) as returns,
           p.proretset as retset
      from pg_proc p join pg_namespace n on n.oid = p.pronamespace
     where n.nspname = 'public' and p.proname = ${fn} and p.prokind = 'f'`;
  for (const r of rows) {
    // OUT/TABLE parameters are not inputs; without modes every parameter is IN.
    const inputs = r.types.map((t, i) => ({ name: r.names[i] ?? "", type: t, mode: r.modes[i] ?? "i" })).filter((p) => p.mode === "i" || p.mode === "b" || p.mode === "v");
    const sig: Signature = { names: inputs.map((p) => p.name), types: inputs.map((p) => p.type), required: inputs.length - r.defaults, returns: r.returns, retset: r.retset };
    const covers = given.every((g) => sig.names.includes(g));
    const complete = sig.names.slice(0, sig.required).every((n) => given.includes(n));
    if (covers && complete) return sig;
  }
  return undefined;
}

function toText(v: unknown, type: string): string | null {
  if (v === null || v === undefined) return null;
  if (type === "jsonb" || type === "json") return JSON.stringify(v);
  // PostgREST turns a JSON array into the array type a parameter declares (json_to_record does).
  if (type.endsWith("[]") && Array.isArray(v)) return arrayLiteral(v);
  return typeof v === "object" ? JSON.stringify(v) : String(v);
}

function arrayLiteral(items: unknown[]): string {
  const item = (x: unknown): string => {
    if (x === null || x === undefined) return "NULL";
    if (Array.isArray(x)) return arrayLiteral(x);
    const text = typeof x === "object" ? JSON.stringify(x) : String(x);
    return `"${text.replaceAll("\\", "\\\\").replaceAll('"', '\\"')}"`;
  };
  return `{${items.map(item).join(",")}}`;
}

const ident = (name: string) => `"${name.replaceAll('"', '""')}"`;

function pgrstError(code: string, message: string, details: string | null = null, hint: string | null = null) {
  return { code, message, details, hint };
}

function notFound(fn: string, given: string[]) {
  const names = [...given].sort();
  const what = names.length ? `public.${fn}(${names.join(", ")})` : `public.${fn} without parameters`;
  const searched = names.length ? `public.${fn} with parameters ${names.join(", ")}` : `public.${fn} without parameters`;
  return pgrstError(
    "PGRST202",
    `Could not find the function ${what} in the schema cache`,
    `Searched for the function ${searched} or with a single unnamed json/jsonb parameter, but no matches were found in the schema cache.`,
  );
}

/** PostgREST's SQLSTATE -> HTTP table (docs.postgrest.org, references/errors). */
export function statusFor(code: string): number {
  const exact: Record<string, number> = { "23503": 409, "23505": 409, "25006": 405, "53400": 500, P0001: 400, "42883": 404, "42P01": 404, "42P17": 500, "42501": 403 };
  const hit = exact[code];
  if (hit !== undefined) return hit;
  const byClass: Record<string, number> = {
    "08": 503, "09": 500, "0L": 403, "0P": 403, "25": 500, "28": 403, "2D": 500, "38": 500, "39": 500, "3B": 500,
    "40": 500, "53": 503, "54": 500, "55": 500, "57": 500, "58": 500, F0: 500, HV: 500, P0: 500, XX: 500,
  };
  return byClass[code.slice(0, 2)] ?? 400;
}
