import { EnvError } from "../env";
import { json } from "./respond";

/**
 * A server whose env does not load runs nothing. It logs the problems in full; the caller (who
 * cannot be authenticated without that env) learns only the names of the variables to set, which
 * .env.example publishes anyway. 500, so QStash keeps retrying the message until it is fixed.
 */
export function refuseMisconfigured(err: unknown): Response {
  const message = err instanceof Error ? err.message : String(err);
  console.error(`cronlayer refused a request: its configuration does not load.\n${message}`);
  if (err instanceof EnvError) {
    return json(500, { error: `this server's configuration is incomplete: set ${err.variables.join(", ")}. Nothing was run; the server log has the details.` });
  }
  return json(500, { error: "this server could not load its configuration. Nothing was run; the server log has the details." });
}
