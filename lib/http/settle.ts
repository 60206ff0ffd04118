import { after } from "next/server";

/**
 * Keeps a run that outlived its answer alive until it settles. On Vercel the function would be
 * frozen once the response is sent; `after()` extends it (up to the route's maxDuration). Outside
 * a request scope (tests, scripts calling the handler directly) `after()` throws, and the process
 * itself keeps the promise running.
 */
export function keepSettling(settlement: Promise<void>): void {
  try {
    after(settlement);
  } catch {
    /* no request scope: nothing to extend */
  }
}
