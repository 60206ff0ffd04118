/** Exit codes every command uses: scripts and CI gates can rely on them. */
export const EXIT = {
  ok: 0,
  /** The command ran and something failed (a job, a request, a refusal). */
  failed: 1,
  /** Bad arguments or payload; or, for `qstash:schedule --check`, changes are pending. */
  usage: 2,
  changes: 2,
} as const;

/** A mistake in how the command was called: exit 2, the message says what to fix. */
export class UsageError extends Error {
  override name = "UsageError";
}
