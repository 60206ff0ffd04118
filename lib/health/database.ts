import type { Component } from "./component";

/** The ledger: without it no run can open, so every job fails. */
export const database: Component = {
  name: "database",
  async check({ deps }) {
    await deps.db.ping();
    return { status: "ok", message: `${deps.db.kind}: cronlayer_ping answered` };
  },
  advice(env, err) {
    const text = err instanceof Error ? err.message : String(err);
    // The function is created by the first migration: a missing one means an unmigrated database.
    if (/cronlayer_ping/.test(text) && /does not exist|could not find|not find the function/i.test(text)) {
      return "The database answers but has no cronlayer_ping function: apply the migrations (pnpm db:migrate, or supabase db push).";
    }
    return env.database.kind === "supabase"
      ? `Adapter supabase: check SUPABASE_URL (${env.database.url}) and SUPABASE_SERVICE_ROLE_KEY, and that the project is not paused.`
      : `Adapter postgres: check DATABASE_URL (host ${hostOf(env.database.url)}), the password, and that the server accepts connections.`;
  },
};

/** The host and port only: the URL carries the password. */
function hostOf(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return "unparseable URL";
  }
}
