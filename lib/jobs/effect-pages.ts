import type { JobContext } from "./define";

/** The claim a piece of work runs under: its key, which attempt this is. */
export interface Effect {
  key: string;
  attempt: number;
}

/** One claimed item: the claim it runs under, and whether an earlier attempt may have made it. */
export interface Claimed<T> {
  item: T;
  effect: Effect;
  reconcile: boolean;
}

/** A page of due items as claimed: how many were offered, which this run holds. */
export interface ClaimedPage<T> {
  offered: number;
  claims: Claimed<T>[];
}

interface Fetched<T> extends ClaimedPage<T> {
  last: T;
  full: boolean;
}

type SettleRow = { key: string; outcome: string };

export interface PagesOptions<T> {
  limit: number;
  lookahead: boolean;
  due: (page: { after: T | undefined; limit: number }) => Promise<T[]>;
  claim: (items: T[]) => Promise<Claimed<T>[]>;
  settle: (rows: SettleRow[], page: ClaimedPage<T>) => Promise<void>;
}

/**
 * The page loop of runEffects: due, claim, work, settle. One page at a time, or with `lookahead`
 * three at once: while page N is worked, page N-1 settles and page N+1 is claimed, on connections
 * of their own, so the job's own work (rendering, provider calls) and the database's overlap.
 *
 * What may not change with it: a page's settle still follows its work; a stop (rate limit, the
 * run's signal, a lost lease) still throws after its page is settled; a settle that fails still
 * fails the run. A page claimed ahead and never worked is released before the run ends, so only a
 * run that dies (or loses the database) leaves it claimed, to be taken over as unknown.
 */
export class EffectPages<T> {
  constructor(
    private readonly ctx: JobContext<unknown>,
    private readonly opts: PagesOptions<T>,
  ) {}

  async run(work: (page: ClaimedPage<T>) => Promise<{ rows: SettleRow[]; stop?: unknown }>): Promise<void> {
    const { lookahead } = this.opts;
    let ahead: Promise<Fetched<T> | undefined> | undefined;
    let settling: Promise<void> | undefined;
    try {
      let page = await this.fetch(undefined);
      while (page) {
        if (lookahead && page.full) ahead = quiet(this.fetch(page.last));
        const { rows, stop } = await work(page);
        const previous = settling;
        settling = quiet(this.opts.settle(rows, page));
        // Without lookahead each settle is awaited here, as the page ends.
        await (lookahead ? previous : settling);
        if (stop !== undefined) throw stop;
        if (!page.full) break;
        if (lookahead) {
          const next: Promise<Fetched<T> | undefined> | undefined = ahead;
          ahead = undefined;
          page = await next;
        } else page = await this.fetch(page.last);
      }
      await settling;
    } catch (err) {
      await this.drain(err, settling, ahead);
      throw err;
    }
  }

  private async fetch(after: T | undefined): Promise<Fetched<T> | undefined> {
    this.ctx.signal.throwIfAborted();
    const items = await this.opts.due({ after, limit: this.opts.limit });
    if (!items.length) return undefined;
    // A run that lost its hold on the job claims nothing more (lease.ts).
    this.ctx.lease.check();
    const claims = await this.opts.claim(items);
    return { offered: items.length, claims, last: items[items.length - 1]!, full: items.length >= this.opts.limit };
  }

  /** On the way out (a stop, an error): the last settle ends, and a page claimed ahead is released. */
  private async drain(thrown: unknown, settling: Promise<void> | undefined, ahead: Promise<Fetched<T> | undefined> | undefined) {
    // A settle that failed while the run stopped for another reason: its claims are left to be
    // taken over as unknown, and the run's error names the other reason, so it is said here.
    await settling?.catch((err: unknown) => {
      if (err !== thrown) this.ctx.log.warn("effects.settle_failed", { error: err instanceof Error ? err.message : String(err) });
    });
    const page = await ahead?.catch(() => undefined);
    if (!page?.claims.length) return;
    const rows = page.claims.map((c) => ({ key: c.effect.key, outcome: "released" }));
    await this.opts.settle(rows, { offered: page.offered, claims: page.claims }).catch((err: unknown) =>
      // Left claimed by this run: once the run is closed, the next claim takes them over as unknown.
      this.ctx.log.warn("effects.release_failed", { claims: rows.length, error: err instanceof Error ? err.message : String(err) }),
    );
  }
}

/** Marks a promise as handled (it is awaited later, maybe after it settles); returns it unchanged. */
function quiet<P extends Promise<unknown>>(p: P): P {
  p.catch(() => {});
  return p;
}
