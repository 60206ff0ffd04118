/** JSON answers with the headers QStash reads. */
export function json(status: number, body: unknown, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { "content-type": "application/json", "cache-control": "no-store", ...headers },
  });
}

/** A bad payload or unknown job never gets better with retries: 489 sends it straight to the DLQ. */
export function nonRetryable(body: unknown): Response {
  return json(489, body, { "Upstash-NonRetryable-Error": "true" });
}
