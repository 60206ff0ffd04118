import { DbError } from "./types";

/**
 * Argument values as both adapters send them. JSON has no bigint: one that a JSON number holds
 * exactly becomes a number, a larger one its decimal string (PostgreSQL casts that exactly to a
 * bigint or numeric parameter). supabase-js would send every bigint as a string otherwise.
 */
export function jsonSafe(v: unknown): unknown {
  // A page of a few thousand items rarely holds a bigint: copied only when one is found.
  return holdsBigint(v) ? toJsonSafe(v) : v;
}

function holdsBigint(v: unknown): boolean {
  if (typeof v === "bigint") return true;
  if (Array.isArray(v)) return v.some(holdsBigint);
  if (isPlain(v)) {
    for (const k in v) if (holdsBigint(v[k])) return true;
  }
  return false;
}

function toJsonSafe(v: unknown): unknown {
  if (typeof v === "bigint") return Number.isSafeInteger(Number(v)) ? Number(v) : v.toString();
  if (Array.isArray(v)) return v.map(toJsonSafe);
  if (isPlain(v)) return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, toJsonSafe(x)]));
  return v;
}

const isPlain = (v: unknown): v is Record<string, unknown> => !!v && typeof v === "object" && Object.getPrototypeOf(v) === Object.prototype;

/** A top-level argument, checked where a silent NULL would hide a bug (an invalid Date). */
export function argValue(fn: string, name: string, v: unknown): unknown {
  if (v instanceof Date && Number.isNaN(v.getTime())) throw new DbError(fn, `argument ${name} is an invalid Date`);
  return v === undefined ? null : jsonSafe(v);
}

/**
 * The SQL literal of one argument, cast to the parameter's declared type when it is known:
 * `E'...'::jsonb`. The server parses the text as that type, so a boolean, number, bigint, array or
 * object reaches a jsonb (or any) parameter as PostgREST would pass it, whatever its JS type.
 * Values travel inline rather than as bind parameters because postgres.js, unprepared (as poolers
 * require), describes every parametrized statement first: a second round trip on every call.
 */
export function sqlLiteral(fn: string, name: string, value: unknown, type: string | undefined): string {
  const v = argValue(fn, name, value);
  if (v === null) return type ? `NULL::${type}` : "NULL";
  const text = type === "jsonb" || type === "json" ? JSON.stringify(v) : type?.endsWith("[]") && Array.isArray(v) ? arrayText(v) : scalarText(v);
  // PostgreSQL text cannot hold NUL, and the wire protocol would cut the statement there.
  if (text.includes("\0")) throw new DbError(fn, `argument ${name} contains a NUL character, which PostgreSQL text cannot hold`);
  return type ? `${quote(text)}::${type}` : quote(text);
}

/** An escape-string literal: the same meaning whatever `standard_conforming_strings` says. */
function quote(text: string): string {
  return `E'${text.replaceAll("\\", "\\\\").replaceAll("'", "''")}'`;
}

function scalarText(v: unknown): string {
  if (typeof v === "string") return v;
  if (v instanceof Date) return v.toISOString();
  if (typeof v === "number" || typeof v === "boolean") return String(v);
  return JSON.stringify(v);
}

/** PostgreSQL's array input syntax: `{"a","b",NULL,{"nested"}}`. */
function arrayText(a: unknown[]): string {
  const item = (x: unknown): string => {
    if (x === null || x === undefined) return "NULL";
    if (Array.isArray(x)) return arrayText(x);
    return `"${scalarText(x).replaceAll("\\", "\\\\").replaceAll('"', '\\"')}"`;
  };
  return `{${a.map(item).join(",")}}`;
}
