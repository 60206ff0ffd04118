import type postgres from "postgres";

/** One overload's input parameters, as `pg_proc` declares them. */
export interface Signature {
  names: string[];
  types: string[];
  /** Parameters without a default: the leading ones. */
  required: number;
}

/** The query that reads every overload of a `public` function (run once per function name). */
export function signatureQuery(sql: postgres.Sql, fn: string) {
  return sql<{ names: string[]; modes: string[]; types: string[]; defaults: number }[]>`
    select coalesce(p.proargnames, '{}') as names,
           coalesce(p.proargmodes::text[], '{}') as modes,
           array(select format_type(t, null) from unnest(coalesce(p.proallargtypes, p.proargtypes::oid[])) with ordinality u(t, i) order by i) as types,
           p.pronargdefaults::int as defaults
      from pg_proc p join pg_namespace n on n.oid = p.pronamespace
     where n.nspname = 'public' and p.proname = ${fn} and p.prokind = 'f'`;
}

export function toSignatures(rows: { names: string[]; modes: string[]; types: string[]; defaults: number }[]): Signature[] | undefined {
  const out: Signature[] = [];
  for (const r of rows) {
    // OUT and TABLE columns are not inputs; a VARIADIC call needs its own syntax, so no casts for it.
    const params = r.types.map((type, i) => ({ name: r.names[i] ?? "", type, mode: r.modes[i] ?? "i" }));
    if (params.some((p) => p.mode === "v")) return undefined;
    const inputs = params.filter((p) => p.mode === "i" || p.mode === "b");
    out.push({ names: inputs.map((p) => p.name), types: inputs.map((p) => p.type), required: inputs.length - r.defaults });
  }
  return out.length ? out : undefined;
}

/**
 * The declared type of each given argument, when exactly one overload takes these names (every
 * given name, every required one). Otherwise undefined: the call goes uncast and the server
 * answers as it would (function does not exist, or is ambiguous).
 */
export function typesFor(sigs: Signature[] | undefined, given: string[]): Map<string, string> | undefined {
  const fits = (sigs ?? []).filter((s) => given.every((g) => s.names.includes(g)) && s.names.slice(0, s.required).every((n) => given.includes(n)));
  if (fits.length !== 1) return undefined;
  const s = fits[0]!;
  return new Map(given.map((g) => [g, s.types[s.names.indexOf(g)]!]));
}
