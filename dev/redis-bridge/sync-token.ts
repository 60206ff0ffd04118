/**
 * `Upstash-Sync-Token`, as @upstash/redis uses it for read-your-writes: every response carries
 * one, the client sends the last one it saw with its next request. On Upstash the token is a
 * replication position and a request waits until the replica serving it has caught up to it.
 * Here one Redis serves every request, so anything answered is already visible to every later
 * request; what is left to keep is the token's contract:
 * - tokens never go backwards: a counter bumped for every answer (written after the request's
 *   commands ran), seeded from the wall clock so that a restarted bridge does not answer below a
 *   token a client still holds;
 * - a request's token is honoured: the answer's token is at least the one the request carried
 *   (a token from before a restart, or from another bridge, moves the counter up to it).
 * A token that is not a whole number (the client's first request sends "") is ignored.
 */
export class SyncTokens {
  #n = Date.now() * 1000;

  /** Call when a request arrives, with its `upstash-sync-token` header. */
  seen(header: string | string[] | undefined): void {
    const raw = Array.isArray(header) ? header[0] : header;
    if (raw === undefined || !/^\d+$/.test(raw) || !Number.isSafeInteger(Number(raw))) return;
    this.#n = Math.max(this.#n, Number(raw));
  }

  /** The token for an answer about to be written: above every earlier one and every one seen. */
  next(): string {
    return String(++this.#n);
  }
}
